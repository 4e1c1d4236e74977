import com.cloudbees.groovy.cps.NonCPS
import dev.gantry.jenkins.Gantry
import dev.gantry.jenkins.Options

/**
 * gantryPipeline: the whole story in one step: build → scan (gate) → push by digest → sign → deploy by digest.
 *
 *   gantryPipeline(
 *       image: 'registry.example.com/shop/web',
 *       registryCredentialsId: 'registry', kubeconfigCredentialsId: 'kubeconfig-prod',
 *       build: [context: '.'],
 *       scan: [severityThreshold: 'high', ignoreUnfixed: true],
 *       deploy: [manifests: 'k8s/', container: 'web', namespace: 'shop', steps: [10, 50], pause: '2m'])
 *
 * Each section takes the options of its step (gantryBuild, gantryScan, gantryPush, gantryDeploy) except
 * `image`, which comes from the stage before; top-level options (credentials, failOnGate, reportDir, …) apply
 * to every stage that knows them. `scan: false` / `push: false` skip a stage; without `deploy` nothing is
 * deployed. A gate that says no stops the pipeline: the build fails, or is unstable with failOnGate: false.
 *
 * Signing: with signingKeyCredentialsId (a "Secret file" credential holding the private key PEM) or a `sign:`
 * section (gantrySign's options), the pushed digest is signed after the push and before the deploy, with the
 * SBOM (sbom: true unless the section says otherwise), the build's provenance and the scan's verdict attached;
 * a deploy with publicKeyFile then verifies exactly that. `sign: false` skips it.
 *
 * Returns [build:, scan:, push:, sign:, deploy:, digest:, image: 'repo@sha256:…', stoppedAt: null|'scan'|'deploy'].
 */
def call(Map cfg = [:]) {
    Gantry gantry = new Gantry(this, 'gantryPipeline')
    String problem = checkPipeline(cfg)
    if (problem) {
        error(problem)
    }
    if (!cfg.image) {
        gantry.fail("missing required option 'image' (the repository to build, e.g. registry.example.com/shop/web)")
    }
    if (cfg.deploy && cfg.push == false) {
        gantry.fail("'deploy' needs the push stage: images are deployed by digest")
    }
    boolean signing = cfg.sign != false && (cfg.signingKeyCredentialsId || cfg.sign instanceof Map)
    if (signing && cfg.push == false) {
        gantry.fail("'sign' needs the push stage: the pushed digest is what is signed")
    }
    boolean stages = cfg.stages != false
    Map result = [build: null, scan: null, push: null, sign: null, deploy: null, digest: null, image: null,
        stoppedAt: null]

    inStage(stages, 'Build') {
        result.build = gantryBuild(section(cfg, 'build', [image: cfg.image]))
    }
    String local = firstRef((Map) result.build)
    if (cfg.scan != false) {
        inStage(stages, 'Scan') {
            result.scan = gantryScan(section(cfg, 'scan', [image: local]))
        }
        if (!result.scan.passed) {
            result.stoppedAt = 'scan'
            echo('gantryPipeline: the scan gate said no: nothing is pushed or deployed')
            return result
        }
    }
    if (cfg.push != false) {
        Map pushCfg = section(cfg, 'push', [image: local])
        if (!pushCfg.to) {
            pushCfg.to = result.build.refs
        }
        inStage(stages, 'Push') {
            result.push = gantryPush(pushCfg)
        }
        result.digest = result.push.digest
        result.image = "${Options.repositoryOf(local)}@${result.digest}".toString()
    }
    if (signing) {
        Map signCfg = section(cfg, 'sign', [image: result.image])
        signDefaults(signCfg, (Map) result.build, result.scan ? "${Gantry.reportDir(cfg)}/scan.json".toString() : null)
        inStage(stages, 'Sign') {
            result.sign = gantrySign(signCfg)
        }
    }
    if (cfg.deploy) {
        Map deployCfg = section(cfg, 'deploy', [:])
        Object container = deployCfg.remove('container') ?: Options.repositoryOf(cfg.image.toString())
        if (deployCfg.image == null) {
            deployCfg.image = ["${container}=${result.image}".toString()]
        }
        inStage(stages, 'Deploy') {
            result.deploy = gantryDeploy(deployCfg)
        }
        if (result.deploy.verdict != 'promoted') {
            result.stoppedAt = 'deploy'
        }
    }
    return result
}

def call(Object other) {
    error('gantryPipeline: expects named options, e.g. gantryPipeline(image: ' +
        "'registry.example.com/app', deploy: [manifests: 'k8s/']); got ${Options.typeName(other)}")
}

private void inStage(boolean stages, String name, Closure body) {
    if (stages) {
        stage(name) {
            body()
        }
    } else {
        body()
    }
}

/** What the pipeline attaches unless the sign section says otherwise: the SBOM, the provenance, the scan. */
@NonCPS
private static void signDefaults(Map signCfg, Map build, String scanResult) {
    if (signCfg.sbom == null) {
        signCfg.sbom = true
    }
    if (signCfg.provenance == null && build?.provenance) {
        signCfg.provenance = build.provenance.toString()
    }
    if (signCfg.scanResult == null && scanResult) {
        signCfg.scanResult = scanResult
    }
}

@NonCPS
private static String firstRef(Map build) {
    List refs = (List) build?.refs
    return refs ? refs[0].toString() : "${build?.image}".toString()
}

/** Top-level options: the pipeline's own, and those shared with the stages. */
@NonCPS
private static Map<String, String> topLevelTypes() {
    Map<String, String> types = [image: 'string', stages: 'boolean', build: 'section', scan: 'map-or-false',
        push: 'map-or-false', sign: 'map-or-false', deploy: 'map-or-false', insecureRegistry: 'list']
    types.putAll(Options.COMMON)
    types.putAll(Options.REGISTRY_CREDENTIALS)
    types.putAll(Options.SIGNING_CREDENTIALS)
    types.putAll(Options.KUBE_CREDENTIALS)
    types.putAll(Options.GATE)
    return types
}

/** Options a section accepts: its step's, minus the image that the stage before provides. */
@NonCPS
private static Map<String, String> sectionTypes(String name) {
    Map<String, String> types = Options.accepted(name)
    if (name == 'deploy') {
        types.container = 'string'
    } else {
        types.remove('image')
    }
    return types
}

@NonCPS
private static String checkPipeline(Map cfg) {
    String problem = Options.check('gantryPipeline', cfg, topLevelTypes())
    if (problem) {
        return problem
    }
    for (String name : ['build', 'scan', 'push', 'sign', 'deploy']) {
        if (cfg[name] instanceof Map) {
            problem = Options.check('gantryPipeline', (Map) cfg[name], sectionTypes(name), name + '.')
            if (problem) {
                return problem
            }
        }
    }
    return null
}

/** A stage's options: the top-level options it knows, then its section, then what the pipeline sets. */
@NonCPS
private static Map section(Map cfg, String name, Map fixed) {
    Map<String, String> types = sectionTypes(name)
    Map out = [:]
    cfg.each { k, v ->
        if (k != 'image' && types.containsKey(k) && v != null) {
            out[k] = v
        }
    }
    if (cfg[name] instanceof Map) {
        out.putAll((Map) cfg[name])
    }
    out.putAll(fixed)
    return out
}
