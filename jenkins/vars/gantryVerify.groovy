import dev.gantry.jenkins.Gantry
import dev.gantry.jenkins.Options

/**
 * gantryVerify: verifies an image's signature and attestations with a public key against a policy.
 *
 *   gantryVerify(image: pushed.image, publicKeyFile: 'cosign.pub', require: ['slsaprovenance1', 'vuln'],
 *                maxCritical: 0, source: 'https://github.com/acme/shop')
 *
 * A refused image stops the build with the reason in one line (exit 1), or with failOnGate: false marks it
 * unstable and returns the result (verified: false, reason). gantryDeploy takes the same options and verifies
 * every image before anything is applied. Returns the CLI's JSON result, archived as gantry-reports/verify.json.
 */
def call(Map cfg = [:]) {
    Gantry gantry = new Gantry(this, 'gantryVerify')
    gantry.validate('verify', cfg, ['image'])
    Map outcome = gantry.run('verify', cfg, [registryOf: cfg.image?.toString()])
    gantry.publish(cfg, [outcome.resultFile])
    Map result = (Map) outcome.result
    String refused = result ? "refused ${result.image}: ${Gantry.oneLine(result.reason)}".toString() : null
    return gantry.finish(outcome, cfg, refused)
}

def call(Object other) {
    error("gantryVerify: expects named options, e.g. gantryVerify(image: 'registry.example.com/app:1.0', " +
        "publicKeyFile: 'cosign.pub'); got ${Options.typeName(other)}")
}
