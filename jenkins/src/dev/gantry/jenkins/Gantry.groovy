package dev.gantry.jenkins

import com.cloudbees.groovy.cps.NonCPS

/**
 * Runs the bundled `gantry` CLI for one library step: validates the step's config, turns it into arguments,
 * runs `node cli.js --json <command> …` with `sh`, reads the JSON result back and maps the exit code.
 *
 * Quoting: no config value is ever written into a shell command line. Each value travels in an environment
 * variable (`withEnv`) and the command line, built only from constant flags, references it as "$GANTRY_ARG_n".
 * Credentials come from `withCredentials` straight into the CLI's environment and are never echoed.
 *
 * Exit codes of the CLI: 0 ok; 1 a gate said no (error, or unstable with failOnGate: false); 2 bad input;
 * 3 infrastructure; 4 the rollback itself failed. Every failure stops the step with one line.
 */
class Gantry implements Serializable {

    private static final long serialVersionUID = 1L

    /** Where the CLI bundle ships in the library (resources/). */
    static final String CLI_RESOURCE = 'dev/gantry/cli.js'
    /** Where it is written in the workspace, relative to the current directory (.mjs: the bundle is an ES module). */
    static final String CLI_PATH = '.gantry/cli.mjs'
    static final String DEFAULT_REPORT_DIR = 'gantry-reports'
    /** Where withCredentials puts the signing key file (signingKeyCredentialsId) and its password. */
    static final String SIGNING_KEY_FILE = 'GANTRY_SIGNING_KEY_FILE'
    static final String SIGNING_KEY_PASSWORD = 'GANTRY_SIGNING_KEY_PASSWORD'
    static final int MIN_NODE_MAJOR = 22
    private static final int EXIT_OLD_NODE = 90
    /** Ends gantryDeploy's rollout branch when it finishes while its approval input is still open. */
    static final String ROLLOUT_ENDED = 'gantryDeploy: the rollout ended before anyone answered; closing the approval input'

    /** The pipeline script (a vars/ step), through which every pipeline step is called. */
    final Object script
    /** The step's name, which prefixes every message (`gantryScan: …`). */
    final String step

    Gantry(Object script, String step) {
        this.script = script
        this.step = step
    }

    /** Stops the build with one line naming the step. */
    void fail(String message) {
        script.error("${step}: ${message}")
    }

    /**
     * Unknown keys, wrong types, then required options. Required options are only checked here when no
     * gantry.yml can supply them (no `config` option and no ./gantry.yml); otherwise the CLI checks them.
     */
    void validate(String command, Map cfg, List<String> required, Map<String, String> extraTypes = [:]) {
        Map<String, String> types = Options.accepted(command)
        types.putAll(extraTypes)
        String problem = Options.check(step, cfg, types)
        if (problem) {
            script.error(problem)
        }
        if (!cfg.config && !script.fileExists('gantry.yml')) {
            String missing = firstMissing(cfg, required)
            if (missing) {
                fail("missing required option '${missing}'")
            }
        }
    }

    @NonCPS
    static String firstMissing(Map cfg, List<String> required) {
        return required.find { String key ->
            Object value = cfg[key]
            value == null || (value instanceof CharSequence && !value.toString().trim()) ||
                (value instanceof Collection && value.isEmpty())
        }
    }

    @NonCPS
    static String reportDir(Map cfg) {
        return (cfg.reportDir ?: DEFAULT_REPORT_DIR).toString().replaceAll('/+$', '')
    }

    /**
     * Runs `gantry <command>` and returns [status: exit code, result: parsed JSON or null, resultFile: path].
     * opts: resultFile (default <reportDir>/<command>.json), extraArgs ([[flag, value], …], or [flag, null, VAR]
     * for a flag whose value is the environment variable VAR, e.g. a path bound by withCredentials), env (['K=v', …]).
     */
    Map run(String command, Map cfg, Map opts = [:]) {
        List<List<String>> args = Options.toArgs(command, cfg)
        if (opts.extraArgs) {
            args.addAll((List) opts.extraArgs)
        }
        String resultFile = opts.resultFile ?: "${reportDir(cfg)}/${command}.json"
        Map line = commandLine(command, args, cfg)
        List<String> env = [
            "GANTRY_NODE=${cfg.node ?: 'node'}".toString(),
            "GANTRY_CLI=${ensureCli()}".toString(),
            "GANTRY_RESULT=${resultFile}".toString(),
        ]
        env.addAll((List<String>) line.env)
        if (opts.env) {
            env.addAll((List<String>) opts.env)
        }
        List bindings = credentialBindings(cfg)
        if (cfg.registryCredentialsId) {
            String host = cfg.registry ?: Options.hostOf(opts.registryOf ?: cfg.image?.toString())
            env << "GANTRY_REGISTRY=${host}".toString()
        }
        int status = -1
        script.withEnv(env) {
            if (bindings) {
                script.withCredentials(bindings) {
                    status = script.sh(script: line.script, returnStatus: true, label: "gantry ${command}")
                }
            } else {
                status = script.sh(script: line.script, returnStatus: true, label: "gantry ${command}")
            }
        }
        return [status: status, result: readResult(resultFile), resultFile: resultFile]
    }

    /**
     * The shell script for a CLI call and the environment it needs. Flags are constants from Options; every
     * value is an environment variable referenced in double quotes, so the shell never parses a value.
     */
    @NonCPS
    static Map commandLine(String command, List<List<String>> args, Map cfg) {
        List<String> env = []
        StringBuilder cli = new StringBuilder('exec "$GANTRY_NODE" "$GANTRY_CLI" --json')
        if (cfg.quiet) {
            cli.append(' --quiet')
        }
        if (cfg.config) {
            env << "GANTRY_CONFIG=${cfg.config}".toString()
            cli.append(' --config "$GANTRY_CONFIG"')
        }
        cli.append(' ').append(command)
        args.eachWithIndex { List<String> pair, int i ->
            cli.append(' ').append(pair[0])
            if (pair.size() > 2 && pair[2] ==~ /[A-Z_][A-Z0-9_]*/) {
                // The value is a variable of the step's own environment (a constant name, never user input).
                cli.append(' "$').append(pair[2]).append('"')
            } else if (pair[1] != null) {
                env << "GANTRY_ARG_${i}=${pair[1]}".toString()
                cli.append(' "$GANTRY_ARG_').append(i).append('"')
            }
        }
        cli.append(' > "$GANTRY_RESULT"')
        String nodeCheck = '"$GANTRY_NODE" -e \'if (+process.versions.node.split(".")[0] < ' + MIN_NODE_MAJOR +
            ') { console.error("gantry: needs Node.js ' + MIN_NODE_MAJOR + ' or later, found " + process.version); process.exit(' +
            EXIT_OLD_NODE + ') }\' || exit $?'
        String script = [
            'set +x',
            'mkdir -p "$(dirname "$GANTRY_RESULT")"',
            'rm -f "$GANTRY_RESULT"',
            nodeCheck,
            cli.toString(),
        ].join('\n') + '\n'
        return [script: script, env: env]
    }

    /** usernamePassword for the registry, a secret file for the kubeconfig. */
    List credentialBindings(Map cfg) {
        List bindings = []
        if (cfg.registryCredentialsId) {
            bindings << script.usernamePassword(
                credentialsId: cfg.registryCredentialsId.toString(),
                usernameVariable: 'GANTRY_REGISTRY_USERNAME',
                passwordVariable: 'GANTRY_REGISTRY_PASSWORD')
        }
        if (cfg.kubeconfigCredentialsId) {
            bindings << script.file(credentialsId: cfg.kubeconfigCredentialsId.toString(), variable: 'KUBECONFIG')
        }
        if (cfg.signingKeyCredentialsId) {
            bindings << script.file(credentialsId: cfg.signingKeyCredentialsId.toString(), variable: SIGNING_KEY_FILE)
        }
        if (cfg.keyPasswordCredentialsId) {
            bindings << script.string(credentialsId: cfg.keyPasswordCredentialsId.toString(), variable: SIGNING_KEY_PASSWORD)
        }
        return bindings
    }

    /** Writes the bundled CLI into the workspace once per build and directory. */
    String ensureCli() {
        String marker = "${script.pwd()}/${CLI_PATH}"
        if (script.env.GANTRY_CLI_WRITTEN != marker || !script.fileExists(CLI_PATH)) {
            script.writeFile(file: CLI_PATH, text: script.libraryResource(resource: CLI_RESOURCE, encoding: 'UTF-8'),
                encoding: 'UTF-8')
            script.env.GANTRY_CLI_WRITTEN = marker
        }
        return CLI_PATH
    }

    Map readResult(String file) {
        if (!script.fileExists(file)) {
            return null
        }
        String text = script.readFile(file: file, encoding: 'UTF-8')
        if (!text?.trim()) {
            return null
        }
        Map result = null
        try {
            result = (Map) script.readJSON(text: text, returnPojo: true)
        } catch (ignored) {
            script.echo("${step}: the gantry CLI's output is not JSON (see the log above)")
        }
        return result
    }

    /**
     * Maps the CLI's exit code: returns the result on 0 (and on 1 with failOnGate: false, after marking the
     * build unstable); stops the build with one line otherwise. `gateMessage` says why a gate said no.
     */
    Map finish(Map outcome, Map cfg, String gateMessage = null) {
        int status = outcome.status as int
        Map result = (Map) outcome.result
        if (status == 126 || status == 127) {
            fail("cannot run Node.js ('${cfg.node ?: 'node'}') on the agent: install Node.js ${MIN_NODE_MAJOR} or later, " +
                "or point 'node' at its path")
        }
        switch (status) {
            case 0:
                if (result == null) {
                    fail('the gantry CLI printed no JSON result (see the log above)')
                }
                return result
            case 1:
                if (result == null || result.error) {
                    fail("the gantry CLI failed (exit 1) without a result${result?.error ? ': ' + result.error : ' (see the log above)'}")
                }
                String message = gateMessage ?: 'a gate said no'
                if (cfg.failOnGate == false) {
                    script.unstable("${step}: ${message}")
                    return result
                }
                fail(message)
                break
            case 2:
                fail(Options.explain(result?.error?.toString()) ?: 'invalid input (see the log above)')
                break
            case 3:
                fail("infrastructure error: ${oneLine(result?.error ?: result?.reason) ?: 'see the log above'}")
                break
            case 4:
                fail("ROLLBACK FAILED, page someone: ${oneLine(result?.error ?: result?.reason) ?: 'see the log above'}")
                break
            case EXIT_OLD_NODE:
                fail("the agent's Node.js is too old: gantry needs Node.js ${MIN_NODE_MAJOR} or later " +
                    "(install it, or point 'node' at another executable)")
                break
            default:
                fail("the gantry CLI exited ${status}${result?.error ? ': ' + oneLine(result.error) : ' (see the log above)'}")
        }
        return result
    }

    @NonCPS
    static String oneLine(Object text) {
        if (text == null) {
            return null
        }
        return text.toString().readLines().collect { it.trim() }.findAll { it }.join(' ')
    }

    /** Archives the files that exist (relative to the workspace) and publishes a JUnit report. */
    void publish(Map cfg, List<String> files, String junitFile = null) {
        if (cfg.publishReports == false) {
            return
        }
        List<String> existing = []
        for (String file : files) {
            if (file && script.fileExists(file)) {
                existing << file
            }
        }
        if (existing) {
            script.archiveArtifacts(artifacts: existing.join(','), allowEmptyArchive: true, fingerprint: false)
        }
        if (junitFile && script.fileExists(junitFile)) {
            script.junit(testResults: junitFile, allowEmptyResults: true)
        }
    }

    /**
     * GIT_COMMIT (and GIT_BRANCH, GIT_URL) for the CLI's tags and labels when the job does not export them:
     * scripted pipelines get them only from `checkout scm`'s return value, so ask the checkout.
     */
    List<String> gitEnv() {
        if (script.env.GIT_COMMIT) {
            return []
        }
        String out = script.sh(returnStdout: true, label: 'gantry: git context', script: [
            'set +x',
            'git rev-parse HEAD 2>/dev/null || echo -',
            'git rev-parse --abbrev-ref HEAD 2>/dev/null || echo -',
            'git config --get remote.origin.url 2>/dev/null || echo -',
        ].join('\n') + '\n')
        return gitEnvFrom(out, script.env.BRANCH_NAME || script.env.GIT_BRANCH, script.env.GIT_URL as boolean)
    }

    @NonCPS
    static List<String> gitEnvFrom(String out, boolean haveBranch, boolean haveUrl) {
        List<String> lines = (out ?: '').readLines().collect { it.trim() }
        List<String> env = []
        String sha = lines.size() > 0 ? lines[0] : ''
        if (sha ==~ /[0-9a-f]{40}/) {
            env << "GIT_COMMIT=${sha}".toString()
        }
        String branch = lines.size() > 1 ? lines[1] : '-'
        if (!haveBranch && branch && branch != '-' && branch != 'HEAD') {
            env << "GIT_BRANCH=${branch}".toString()
        }
        String url = lines.size() > 2 ? lines[2] : '-'
        if (!haveUrl && url && url != '-') {
            env << "GIT_URL=${url}".toString()
        }
        return env
    }
}
