import com.cloudbees.groovy.cps.NonCPS
import dev.gantry.jenkins.Gantry
import dev.gantry.jenkins.Options

/**
 * gantryDeploy: rolls an image out by digest with the bundled `gantry deploy` (rolling, canary, blue-green),
 * with metric analysis and automatic rollback.
 *
 *   gantryDeploy(manifests: 'k8s/', image: ["app=${ref}@${digest}"], namespace: 'shop',
 *                strategy: 'canary', steps: [10, 50], pause: '2m', analysis: 'k8s/analysis.yaml',
 *                kubeconfigCredentialsId: 'kubeconfig-prod')
 *
 * Gates while the new version serves traffic (both need `name`):
 *   approval: true         an input offers "promote now" or "abort" until the rollout ends by itself; at a canary
 *                          step that waits for a person (`until-promoted`), "promote" releases that gate and the
 *                          input is offered again at the next gate;
 *   a block                gantryDeploy(cfg) { status -> sh './smoke-test.sh' } runs once the new version is
 *                          live; if it fails, the rollout is aborted (rolled back).
 * The rollout runs in one parallel branch, the gates in the other; the answers go to `gantry promote` and
 * `gantry abort`. When the rollout ends first, the pending input is closed.
 *
 * A rollback (exit 1) stops the build, or with failOnGate: false marks it unstable and returns the report.
 */
def call(Map cfg = [:], Closure verify = null) {
    Gantry gantry = new Gantry(this, 'gantryDeploy')
    // A Helm chart (chart: 'charts/web', values:, set:, release:) takes the place of manifests.
    gantry.validate('deploy', cfg, cfg.chart ? [] : ['manifests'])
    Map effective = new LinkedHashMap(cfg)
    if (cfg.report == null) {
        effective.report = "${Gantry.reportDir(cfg)}/rollout".toString()
    }
    boolean gated = cfg.approval || verify != null
    if (gated && !cfg.name) {
        gantry.fail("missing required option 'name' (the Deployment to promote or abort), needed with approval or a verification block")
    }
    if (gated && cfg.strategy == 'rolling') {
        gantry.fail("approval and verification need strategy 'canary' or 'blue-green', not 'rolling'")
    }
    Map gate = [finished: false, waiting: false, decision: null, by: null, verifyError: null]
    Map outcome = gated ? gatedDeploy(gantry, effective, verify, gate) : gantry.run('deploy', effective)
    String report = effective.report
    gantry.publish(cfg, [outcome.resultFile, "${report}/rollout.json", "${report}/rollout.md", "${report}/rollout.svg"])
    return gantry.finish(outcome, cfg, gateMessage((Map) outcome.result, gate))
}

def call(Object other) {
    error('gantryDeploy: expects named options, e.g. gantryDeploy(manifests: ' +
        "'k8s/', image: ['app=registry/app@sha256:…']); got ${Options.typeName(other)}")
}

/** The rollout in one branch, the gates (verification block, approval input) in the other. */
private Map gatedDeploy(Gantry gantry, Map cfg, Closure verify, Map gate) {
    Map outcome = null
    try {
        parallel(
            failFast: true,
            rollout: {
                outcome = gantry.run('deploy', cfg)
                gate.finished = true
                if (gate.waiting) {
                    // No step can withdraw another branch's input: failing this branch (failFast) closes it.
                    error(Gantry.ROLLOUT_ENDED)
                }
            },
            gate: {
                control(gantry, cfg, verify, gate)
            }
        )
    } catch (e) {
        if (outcome == null) {
            throw e
        }
    }
    return outcome
}

private void control(Gantry gantry, Map cfg, Closure verify, Map gate) {
    Map status = waitUntilServing(gantry, cfg, gate)
    if (status == null) {
        return
    }
    if (verify != null) {
        try {
            verify.call(status)
        } catch (e) {
            if (gate.finished) {
                return
            }
            gate.verifyError = Gantry.oneLine(e.message ?: e.toString())
            echo("gantryDeploy: verification failed (${gate.verifyError}); aborting the rollout")
            command(gantry, cfg, 'abort')
            return
        }
    }
    while (cfg.approval && !gate.finished) {
        if (!approve(gantry, cfg, status, gate) || gate.decision != 'promote') {
            return
        }
        // A promote at a gate releases it and the rollout goes on: its next gate, if any, gets the input again.
        // (A promote anywhere else promotes at once, and the rollout ends.)
        status = waitUntilNextGate(gantry, cfg, gate, (status.step ?: 0) as int)
        if (status == null) {
            return
        }
    }
}

/** Offers the input once and acts on the answer; false when the rollout ended first (nothing was asked of it). */
private boolean approve(Gantry gantry, Map cfg, Map status, Map gate) {
    Map answer
    gate.waiting = true
    try {
        answer = askApproval(cfg, status)
    } catch (e) {
        gate.waiting = false
        if (gate.finished) {
            return false
        }
        gate.decision = 'abort'
        gate.by = 'the approval input was aborted'
        command(gantry, cfg, 'abort')
        return true
    }
    gate.waiting = false
    gate.decision = answer.GANTRY_ACTION
    gate.by = answer.GANTRY_APPROVER ?: 'unknown'
    if (gate.finished) {
        return false
    }
    echo("gantryDeploy: ${gate.decision} requested by ${gate.by}")
    command(gantry, cfg, gate.decision.toString())
    return true
}

private Map askApproval(Map cfg, Map status) {
    String target = "${cfg.namespace ?: 'default'}/${cfg.name}"
    boolean atGate = status.phase == 'waiting'
    String question = atGate ?
        "The rollout of ${target} waits at step ${status.step} (${status.weight ?: 0}% of traffic) for a person. " +
            'Promote (release this gate: the rollout goes on with its next steps), or abort the rollout?' :
        "The new version of ${target} is live (${status.weight ?: 0}% of traffic). Promote it now, or abort the rollout?"
    String promote = atGate ? 'promote: release this gate, the rollout goes on' : 'promote: skip the remaining steps and promote'
    Map params = [
        id: 'GantryRollout',
        message: cfg.approvalMessage ?: question,
        ok: 'Apply',
        parameters: [choice(name: 'GANTRY_ACTION', choices: ['promote', 'abort'],
            description: "${promote}; abort: take the new version out of traffic and remove it".toString())],
        submitterParameter: 'GANTRY_APPROVER',
    ]
    if (cfg.approvalSubmitter) {
        params.submitter = cfg.approvalSubmitter.toString()
    }
    Object answer = input(params)
    return answer instanceof Map ? (Map) answer : [GANTRY_ACTION: answer?.toString()]
}

/** Polls `gantry status` until the new version of this rollout serves traffic; null if the rollout ended first. */
private Map waitUntilServing(Gantry gantry, Map cfg, Map gate) {
    List<String> expected = expectedImages(cfg.image)
    Map statusCfg = new LinkedHashMap(cfg)
    statusCfg.quiet = true
    statusCfg.watch = false // one state per call, even if gantry.yml says status.watch
    while (!gate.finished) {
        Map outcome = gantry.run('status', statusCfg, [resultFile: '.gantry/status.json'])
        if (outcome.status == 0 && serving((Map) outcome.result, expected)) {
            return (Map) outcome.result
        }
        if (!gate.finished) {
            sleep(time: 2, unit: 'SECONDS')
        }
    }
    return null
}

/** Polls `gantry status` until the rollout waits at a gate after step `after`; null if the rollout ended first. */
private Map waitUntilNextGate(Gantry gantry, Map cfg, Map gate, int after) {
    Map statusCfg = new LinkedHashMap(cfg)
    statusCfg.quiet = true
    statusCfg.watch = false // one state per call, even if gantry.yml says status.watch
    while (!gate.finished) {
        Map outcome = gantry.run('status', statusCfg, [resultFile: '.gantry/status.json'])
        Map status = (Map) outcome.result
        if (outcome.status == 0 && status?.phase == 'waiting' && ((status.step ?: 0) as int) > after) {
            return status
        }
        if (!gate.finished) {
            sleep(time: 2, unit: 'SECONDS')
        }
    }
    return null
}

private void command(Gantry gantry, Map cfg, String name) {
    Map outcome = gantry.run(name, cfg, [resultFile: ".gantry/${name}.json".toString()])
    if (outcome.status != 0) {
        echo("gantryDeploy: gantry ${name} exited ${outcome.status}: ${Gantry.oneLine(outcome.result?.error) ?: 'see the log above'}")
    }
}

@NonCPS
private static List<String> expectedImages(Object images) {
    List items = images instanceof List ? (List) images : (images == null ? [] : [images])
    return items.collect { Object raw -> String item = raw; item.contains('=') ? item.substring(item.indexOf('=') + 1) : item }
}

@NonCPS
private static boolean serving(Map status, List<String> expected) {
    if (status == null || !(status.phase in ['progressing', 'waiting'])) {
        return false
    }
    if (expected && !(status.image in expected)) {
        return false // another run's rollout of the same service, which ours is waiting for
    }
    Map canary = (Map) status.canary
    if (canary == null || ((canary.ready ?: 0) as int) < 1) {
        return false
    }
    return status.strategy == 'blue-green' || ((status.weight ?: 0) as int) > 0
}

@NonCPS
private static String gateMessage(Map result, Map gate) {
    if (result == null) {
        return null
    }
    String reason = result.reason ?: result.verdict
    String why = ''
    if (gate.verifyError) {
        why = " (verification failed: ${gate.verifyError})"
    } else if (gate.decision == 'abort') {
        why = " (aborted at the approval gate by ${gate.by})"
    }
    return "${result.verdict ?: 'failed'}: ${result.namespace}/${result.name}: ${reason}${why}"
}
