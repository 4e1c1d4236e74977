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
 *                          input is offered again at the next gate; at a confirm gate of the hooks (`hooks:` with
 *                          confirm-rollout: before anything is created; confirm-promotion: before promotion) the
 *                          input asks "confirm or abort" ("promote" confirms for the hooks);
 *   a block                gantryDeploy(cfg) { status -> sh './smoke-test.sh' } runs once the new version is
 *                          live (never at confirm-rollout); if it fails, the rollout is aborted (rolled back).
 * The rollout runs in one parallel branch, the gates in the other; the answers go to `gantry promote` and
 * `gantry abort`. When the rollout ends first, the pending input is closed; so is an input at a confirm gate that
 * the hooks confirmed first (or that timed out), and an input elsewhere once the rollout waits at a confirm gate
 * (which gets its own input).
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

/**
 * The gates' branch. Without approval: once the new version serves traffic, the verification block. With approval:
 * the input at a confirm gate (confirm-rollout: before anything exists; confirm-promotion: before promotion), once
 * the new version serves traffic (after the verification block) the input "promote now or abort", and after a
 * promote that released a gate, the input again at the next gate.
 */
private void control(Gantry gantry, Map cfg, Closure verify, Map gate) {
    // verified: the block ran (or there is none); offered: the first input while the new version serves was asked;
    // released: the confirm gates already decided; afterStep: after a promote at step gate n, gates after n get the input.
    Map at = [approval: cfg.approval as boolean, verified: verify == null, offered: false, released: [],
              afterStep: null, expected: expectedImages(cfg.image)]
    while (!gate.finished) {
        Map status = waitForStatus(gantry, cfg, gate, at)
        if (status == null) {
            return
        }
        if (!at.verified && serving(status, (List) at.expected)) {
            at.verified = true
            if (!verified(gantry, cfg, verify, status, gate)) {
                return
            }
            if (!at.approval) {
                return
            }
        }
        String confirm = confirmGate(status)
        if (confirm == null) {
            at.offered = true
        }
        String answer = approve(gantry, cfg, status, gate)
        if (answer == 'ended' || answer == 'abort') {
            return
        }
        if (confirm != null) {
            // Confirmed (by this answer, or by the hooks: the input was withdrawn): never offered again.
            at.released << confirm
            at.offered = at.offered || confirm == 'confirm-promotion'
        } else if (answer == 'promote') {
            // A promote at a gate releases it and the rollout goes on: its next gate, if any, gets the input again.
            // (A promote anywhere else promotes at once, and the rollout ends.)
            at.afterStep = (status.step ?: 0) as int
        }
    }
}

/** Runs the verification block; false when it failed (the rollout is being aborted) or the rollout ended. */
private boolean verified(Gantry gantry, Map cfg, Closure verify, Map status, Map gate) {
    try {
        verify.call(status)
        return true
    } catch (e) {
        if (gate.finished) {
            return false
        }
        gate.verifyError = Gantry.oneLine(e.message ?: e.toString())
        echo("gantryDeploy: verification failed (${gate.verifyError}); aborting the rollout")
        command(gantry, cfg, 'abort')
        return false
    }
}

/**
 * Offers the input and acts on the answer: 'promote' or 'abort' (sent), 'moot' (withdrawn, or answered too late:
 * the rollout no longer waits where it was asked; nothing sent), 'ended' (the rollout ended first).
 */
private String approve(Gantry gantry, Map cfg, Map status, Map gate) {
    Map answer
    Map ask = [answered: false, moot: false]
    gate.waiting = true
    try {
        // A second branch withdraws the input when it no longer fits (see watchUntilMoot()): no step can withdraw an
        // input, but failing a branch of a failFast parallel closes the others' pending input.
        parallel(
            failFast: true,
            input: {
                answer = askApproval(cfg, status)
                ask.answered = true
            },
            watch: {
                boolean moot = false
                try {
                    moot = watchUntilMoot(gantry, cfg, status, gate, ask)
                } catch (e) {
                    // Never taken for an answer: the input stays open (the rollout ending still closes it).
                    if (!gate.finished && !ask.answered) {
                        echo("gantryDeploy: stopped watching the rollout for the open input: ${Gantry.oneLine(e.message ?: e.toString())}")
                    }
                }
                if (moot) {
                    ask.moot = true
                    error('gantryDeploy: the approval input no longer fits (the rollout left its confirm gate, or reached one); closing it')
                }
            }
        )
    } catch (e) {
        gate.waiting = false
        if (gate.finished) {
            return 'ended'
        }
        if (ask.moot && !ask.answered) {
            return 'moot'
        }
        if (!ask.answered) {
            gate.decision = 'abort'
            gate.by = 'the approval input was aborted'
            command(gantry, cfg, 'abort')
            return 'abort'
        }
    }
    gate.waiting = false
    if (gate.finished) {
        return 'ended'
    }
    String decision = answer.GANTRY_ACTION
    String by = answer.GANTRY_APPROVER ?: 'unknown'
    String confirm = confirmGate(status)
    if (decision == 'promote' && confirm != null && !stillAt(gantry, cfg, confirm)) {
        // Sent now, a promote would no longer confirm that gate but promote at once, skipping the steps.
        echo("gantryDeploy: promote by ${by} came after the rollout had left the ${confirm} gate; not sent")
        return 'moot'
    }
    gate.decision = decision
    gate.by = by
    echo("gantryDeploy: ${decision} requested by ${by}")
    command(gantry, cfg, decision)
    return decision
}

private Map askApproval(Map cfg, Map status) {
    String target = "${cfg.namespace ?: 'default'}/${cfg.name}"
    String confirm = confirmGate(status)
    boolean atGate = status.phase == 'waiting'
    String question
    String promote
    String abort = 'abort: take the new version out of traffic and remove it'
    if (confirm == 'confirm-rollout') {
        question = "The rollout of ${target} waits for its confirm-rollout hooks before anything is created. " +
            'Confirm (start the rollout) or abort?'
        promote = 'promote: confirm for the hooks, the rollout starts'
        abort = 'abort: do not start the rollout (nothing of the new version exists yet)'
    } else if (confirm == 'confirm-promotion') {
        String where = status.strategy == 'blue-green' ? 'the preview passed its analysis' :
            "${status.weight ?: 0}% of traffic on the new version"
        question = "The rollout of ${target} waits for its confirm-promotion hooks before promotion (${where}). " +
            'Confirm (promote) or abort?'
        promote = 'promote: confirm for the hooks, the new version is promoted'
    } else if (atGate) {
        question = "The rollout of ${target} waits at step ${status.step} (${status.weight ?: 0}% of traffic) for a person. " +
            'Promote (release this gate: the rollout goes on with its next steps), or abort the rollout?'
        promote = 'promote: release this gate, the rollout goes on'
    } else {
        question = "The new version of ${target} is live (${status.weight ?: 0}% of traffic). Promote it now, or abort the rollout?"
        promote = 'promote: skip the remaining steps and promote'
    }
    Map params = [
        id: 'GantryRollout',
        message: cfg.approvalMessage ?: question,
        ok: 'Apply',
        parameters: [choice(name: 'GANTRY_ACTION', choices: ['promote', 'abort'],
            description: "${promote}; ${abort}".toString())],
        submitterParameter: 'GANTRY_APPROVER',
    ]
    if (cfg.approvalSubmitter) {
        params.submitter = cfg.approvalSubmitter.toString()
    }
    Object answer = input(params)
    return answer instanceof Map ? (Map) answer : [GANTRY_ACTION: answer?.toString()]
}

/**
 * While the input is pending, polls `gantry status`; true once the input no longer fits: it was asked at a confirm
 * gate and the rollout left it (the hooks confirmed, or the gate timed out), or it was asked elsewhere and the
 * rollout now waits at a confirm gate (which gets an input of its own). False when answered, or the rollout ended.
 */
private boolean watchUntilMoot(Gantry gantry, Map cfg, Map asked, Map gate, Map ask) {
    String confirm = confirmGate(asked)
    List<String> expected = expectedImages(cfg.image)
    while (!ask.answered && !gate.finished) {
        sleep(time: 3, unit: 'SECONDS')
        if (ask.answered || gate.finished) {
            return false
        }
        Map status = statusNow(gantry, cfg)
        if (status != null && status.phase in ['progressing', 'waiting', 'promoting', 'rolling-back'] &&
            ours(status, expected) && confirmGate(status) != confirm) {
            return !ask.answered
        }
    }
    return false
}

/** True when the rollout still waits at the confirm gate `confirm`. */
private boolean stillAt(Gantry gantry, Map cfg, String confirm) {
    Map status = statusNow(gantry, cfg)
    return status != null && confirmGate(status) == confirm && ours(status, expectedImages(cfg.image))
}

/** Polls `gantry status` until control() has something to do (see actionable()); null if the rollout ended first. */
private Map waitForStatus(Gantry gantry, Map cfg, Map gate, Map at) {
    while (!gate.finished) {
        Map status = statusNow(gantry, cfg)
        if (status != null && actionable(status, at)) {
            return status
        }
        if (!gate.finished) {
            sleep(time: 2, unit: 'SECONDS')
        }
    }
    return null
}

/** One `gantry status`; null when it failed. */
private Map statusNow(Gantry gantry, Map cfg) {
    Map statusCfg = new LinkedHashMap(cfg)
    statusCfg.quiet = true
    statusCfg.watch = false // one state per call, even if gantry.yml says status.watch
    Map outcome = gantry.run('status', statusCfg, [resultFile: '.gantry/status.json'])
    return outcome.status == 0 ? (Map) outcome.result : null
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

/**
 * Whether control() acts on this status: the verification block once the new version serves traffic; with approval,
 * a confirm gate not yet decided, the first input once the new version serves, then each later gate.
 */
@NonCPS
private static boolean actionable(Map status, Map at) {
    List<String> expected = (List<String>) at.expected
    if (!at.verified) {
        return serving(status, expected) || (at.approval && pendingConfirm(status, at))
    }
    if (!at.approval) {
        return false
    }
    if (pendingConfirm(status, at)) {
        return true
    }
    if (!at.offered) {
        return serving(status, expected)
    }
    return at.afterStep != null && status.phase == 'waiting' && confirmGate(status) == null && ours(status, expected) &&
        ((status.step ?: 0) as int) > (at.afterStep as int)
}

@NonCPS
private static boolean pendingConfirm(Map status, Map at) {
    String confirm = confirmGate(status)
    return confirm != null && !(confirm in (List) at.released) && ours(status, (List<String>) at.expected)
}

/** 'confirm-rollout' or 'confirm-promotion' while the rollout waits at that hooks' gate, else null. */
@NonCPS
private static String confirmGate(Map status) {
    if (status?.phase != 'waiting' || !(status.gate instanceof Map)) {
        return null
    }
    Object hook = ((Map) status.gate).hook
    return hook in ['confirm-rollout', 'confirm-promotion'] ? hook.toString() : null
}

/** The rollout is this run's, not another run's of the same service (which ours is waiting for). */
@NonCPS
private static boolean ours(Map status, List<String> expected) {
    return !expected || status?.image in expected
}

@NonCPS
private static boolean serving(Map status, List<String> expected) {
    if (status == null || !(status.phase in ['progressing', 'waiting'])) {
        return false
    }
    if (!ours(status, expected) || confirmGate(status) == 'confirm-rollout') {
        return false // another run's rollout of the same service; or nothing of the new version exists yet
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
