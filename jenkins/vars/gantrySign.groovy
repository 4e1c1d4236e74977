import dev.gantry.jenkins.Gantry
import dev.gantry.jenkins.Options

/**
 * gantrySign: signs an image's digest (cosign-compatible) and attaches its attestations: the SBOM (sbom: true,
 * generated with trivy), the build's SLSA provenance, the scan's verdict, or any statement file.
 *
 *   def signed = gantrySign(image: pushed.image, signingKeyCredentialsId: 'cosign-key', sbom: true,
 *                           provenance: built.provenance, scanResult: 'gantry-reports/scan.json')
 *   echo "signature ${signed.signature}"
 *
 * The key comes from a "Secret file" credential (signingKeyCredentialsId), bound with withCredentials and
 * handed to the CLI as --key-file; an encrypted key's password from a "Secret text" credential
 * (keyPasswordCredentialsId). Neither is written into a command line or the log. Returns the CLI's JSON
 * result (image, digest, signature, attestations) and, with sbom, `sbom`: the SBOM file, archived with it.
 */
def call(Map cfg = [:]) {
    Gantry gantry = new Gantry(this, 'gantrySign')
    gantry.validate('sign', cfg, ['image'])
    if (cfg.signingKeyCredentialsId && (cfg.keyFile || cfg.keyEnv)) {
        gantry.fail("give one of 'signingKeyCredentialsId', 'keyFile' and 'keyEnv'")
    }
    Map effective = new LinkedHashMap(cfg)
    List<List<String>> extra = []
    if (cfg.signingKeyCredentialsId) {
        extra << ['--key-file', null, Gantry.SIGNING_KEY_FILE]
    }
    if (cfg.keyPasswordCredentialsId) {
        effective.keyPasswordEnv = Gantry.SIGNING_KEY_PASSWORD
    }
    if (cfg.sbom && !cfg.sbomOutput) {
        effective.sbomOutput = "${Gantry.reportDir(cfg)}/sbom.cdx.json".toString()
    }
    Map outcome = gantry.run('sign', effective, [extraArgs: extra, registryOf: cfg.image?.toString()])
    gantry.publish(cfg, [outcome.resultFile, cfg.sbom ? effective.sbomOutput?.toString() : null])
    Map result = gantry.finish(outcome, cfg)
    if (cfg.sbom) {
        result.sbom = effective.sbomOutput.toString()
    }
    return result
}

def call(Object other) {
    error("gantrySign: expects named options, e.g. gantrySign(image: 'registry.example.com/app@sha256:…', " +
        "signingKeyCredentialsId: 'cosign-key'); got ${Options.typeName(other)}")
}
