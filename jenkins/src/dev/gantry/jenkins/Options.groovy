package dev.gantry.jenkins

import com.cloudbees.groovy.cps.NonCPS

/**
 * What each Gantry step accepts, and how a step's config map becomes `gantry` CLI arguments.
 *
 * CLI options use the camelCase of the CLI flag (`severityThreshold` → `--severity-threshold`); the CLI table
 * below is generated from src/config/options.ts by `npm run docs` (CI fails when it is stale: do not edit it). Wrapper options are the
 * library's own (credentials, gates, reports). Everything here is pure computation, so it is @NonCPS.
 *
 * Types: string, boolean, number, list (a List, or one String; comma-separated lists may be one String
 * "10,25,50"), map (a Map, or a List of 'KEY=value' Strings), bool-or-string (`latest`).
 */
class Options implements Serializable {

    private static final long serialVersionUID = 1L

    /** CLI flags per command: cfg key → [flag, type, commaSeparated]. */
    static final Map<String, Map<String, List>> CLI = [
        build: [
            image: ['image', 'string'],
            context: ['context', 'string'],
            file: ['file', 'string'],
            builder: ['builder', 'string'],
            tag: ['tag', 'list'],
            tagRule: ['tag-rule', 'list'],
            latest: ['latest', 'bool-or-string'],
            buildArg: ['build-arg', 'map'],
            label: ['label', 'map'],
            target: ['target', 'string'],
            network: ['network', 'string'],
            platform: ['platform', 'list', true],
            secret: ['secret', 'list'],
            cacheRef: ['cache-ref', 'string'],
            cacheFrom: ['cache-from', 'list'],
            cacheTo: ['cache-to', 'list'],
            push: ['push', 'boolean'],
            provenance: ['provenance', 'boolean'],
            provenanceOutput: ['provenance-output', 'string'],
            buildxProvenance: ['buildx-provenance', 'boolean'],
            insecureRegistry: ['insecure-registry', 'list'],
            retries: ['retries', 'number'],
        ],
        scan: [
            image: ['image', 'string'],
            platform: ['platform', 'list', true],
            scanner: ['scanner', 'string'],
            severityThreshold: ['severity-threshold', 'string'],
            ignoreUnfixed: ['ignore-unfixed', 'boolean'],
            ignoreFile: ['ignore-file', 'string'],
            scanners: ['scanners', 'list', true],
            sarif: ['sarif', 'string'],
            gitlabReport: ['gitlab-report', 'string'],
            junit: ['junit', 'string'],
            markdown: ['markdown', 'string'],
            trivyignore: ['trivyignore', 'boolean'],
            insecureRegistry: ['insecure-registry', 'list'],
        ],
        sbom: [
            image: ['image', 'string'],
            platform: ['platform', 'list', true],
            format: ['format', 'string'],
            output: ['output', 'string'],
            insecureRegistry: ['insecure-registry', 'list'],
        ],
        push: [
            image: ['image', 'string'],
            to: ['to', 'list'],
            insecureRegistry: ['insecure-registry', 'list'],
            retries: ['retries', 'number'],
        ],
        sign: [
            image: ['image', 'string'],
            keyFile: ['key-file', 'string'],
            keyEnv: ['key-env', 'string'],
            keyPasswordEnv: ['key-password-env', 'string'],
            attest: ['attest', 'list'],
            keyless: ['keyless', 'boolean'],
            identityTokenEnv: ['identity-token-env', 'string'],
            fulcioUrl: ['fulcio-url', 'string'],
            rekorUrl: ['rekor-url', 'string'],
            sbom: ['sbom', 'boolean'],
            sbomOutput: ['sbom-output', 'string'],
            provenance: ['provenance', 'string'],
            scanResult: ['scan-result', 'string'],
            insecureRegistry: ['insecure-registry', 'list'],
        ],
        verify: [
            image: ['image', 'string'],
            publicKeyFile: ['public-key-file', 'string'],
            publicKeyEnv: ['public-key-env', 'string'],
            require: ['require', 'list', true],
            maxCritical: ['max-critical', 'number'],
            maxHigh: ['max-high', 'number'],
            source: ['source', 'string'],
            builderId: ['builder-id', 'string'],
            insecureRegistry: ['insecure-registry', 'list'],
        ],
        deploy: [
            publicKeyFile: ['public-key-file', 'string'],
            publicKeyEnv: ['public-key-env', 'string'],
            require: ['require', 'list', true],
            maxCritical: ['max-critical', 'number'],
            maxHigh: ['max-high', 'number'],
            source: ['source', 'string'],
            builderId: ['builder-id', 'string'],
            manifests: ['manifests', 'list'],
            chart: ['chart', 'string'],
            values: ['values', 'list'],
            set: ['set', 'list'],
            release: ['release', 'string'],
            image: ['image', 'list'],
            namespace: ['namespace', 'string'],
            name: ['name', 'string'],
            strategy: ['strategy', 'string'],
            router: ['router', 'string'],
            steps: ['steps', 'list', true],
            pause: ['pause', 'string'],
            gateTimeout: ['gate-timeout', 'string'],
            onGateTimeout: ['on-gate-timeout', 'string'],
            analysis: ['analysis', 'string'],
            hooks: ['hooks', 'string'],
            prometheusUrl: ['prometheus-url', 'string'],
            timeout: ['timeout', 'string'],
            readyTimeout: ['ready-timeout', 'string'],
            blueGreenDelay: ['blue-green-delay', 'string'],
            lockTimeout: ['lock-timeout', 'string'],
            leaseDuration: ['lease-duration', 'number'],
            resume: ['resume', 'boolean'],
            kubeconfig: ['kubeconfig', 'string'],
            report: ['report', 'string'],
            notifySlackUrlEnv: ['notify-slack-url-env', 'string'],
            notifySlackUrlFile: ['notify-slack-url-file', 'string'],
            notifyTeamsUrlEnv: ['notify-teams-url-env', 'string'],
            notifyTeamsUrlFile: ['notify-teams-url-file', 'string'],
            notifyWebhookUrlEnv: ['notify-webhook-url-env', 'string'],
            notifyWebhookUrlFile: ['notify-webhook-url-file', 'string'],
            notifySteps: ['notify-steps', 'boolean'],
            notifyTimeout: ['notify-timeout', 'string'],
        ],
        status: [
            namespace: ['namespace', 'string'],
            name: ['name', 'string'],
            timeout: ['timeout', 'string'],
            kubeconfig: ['kubeconfig', 'string'],
            watch: ['watch', 'boolean'],
            waitStart: ['wait-start', 'string'],
        ],
        promote: [
            namespace: ['namespace', 'string'],
            name: ['name', 'string'],
            kubeconfig: ['kubeconfig', 'string'],
        ],
        abort: [
            namespace: ['namespace', 'string'],
            name: ['name', 'string'],
            timeout: ['timeout', 'string'],
            kubeconfig: ['kubeconfig', 'string'],
        ],
    ]

    /** Options of the library itself, shared by every step that talks to the CLI. */
    static final Map<String, String> COMMON = [
        config: 'string',          // gantry.yml supplying defaults (--config)
        node: 'string',            // the Node.js executable on the agent (default: node)
        quiet: 'boolean',          // only warnings and errors in the log (--quiet)
        reportDir: 'string',       // where reports and JSON results go (default: gantry-reports)
        publishReports: 'boolean', // archiveArtifacts + junit (default: true)
    ]

    static final Map<String, String> REGISTRY_CREDENTIALS = [
        registryCredentialsId: 'string', // usernamePassword credentials for the registry
        registry: 'string',              // registry host for those credentials (default: the image's host)
    ]

    static final Map<String, String> KUBE_CREDENTIALS = [
        kubeconfigCredentialsId: 'string', // secret file credentials holding a kubeconfig
    ]

    static final Map<String, String> SIGNING_CREDENTIALS = [
        signingKeyCredentialsId: 'string',  // secret file credentials holding the private key PEM (→ --key-file)
        keyPasswordCredentialsId: 'string', // secret text credentials: the password of an encrypted key
    ]

    static final Map<String, String> GATE = [
        failOnGate: 'boolean', // a gate that says no (exit 1): error (default) or unstable
    ]

    static final Map<String, String> APPROVAL = [
        approval: 'boolean',          // offer promote/abort (input) while the rollout runs
        approvalSubmitter: 'string',  // who may answer (input submitter)
        approvalMessage: 'string',    // the question shown
    ]

    /** Wrapper options accepted by each step, in addition to its command's CLI options. */
    @NonCPS
    static Map<String, String> wrapperOptions(String command) {
        Map<String, String> out = [:]
        out.putAll(COMMON)
        if (command in ['build', 'scan', 'push', 'sign', 'verify']) {
            out.putAll(REGISTRY_CREDENTIALS)
        }
        if (command in ['scan', 'verify', 'deploy']) {
            out.putAll(GATE)
        }
        if (command == 'sign') {
            out.putAll(SIGNING_CREDENTIALS)
        }
        if (command == 'deploy') {
            out.putAll(KUBE_CREDENTIALS)
            out.putAll(APPROVAL)
        }
        return out
    }

    /** Every option a step accepts: key → type. */
    @NonCPS
    static Map<String, String> accepted(String command) {
        Map<String, String> out = [:]
        CLI[command].each { String key, List spec -> out[key] = (String) spec[1] }
        out.putAll(wrapperOptions(command))
        return out
    }

    /**
     * Checks keys and types of `cfg` against `types` (key → type). Returns the first problem as one line
     * (`gantryScan: unknown option 'foo'`), or null. Values themselves are never echoed: they may be secret.
     */
    @NonCPS
    static String check(String step, Map cfg, Map<String, String> types, String prefix = '') {
        if (cfg == null) {
            return null
        }
        for (Object rawKey : cfg.keySet()) {
            String key = String.valueOf(rawKey)
            if (!types.containsKey(key)) {
                String hint = suggestion(key, types.keySet())
                return "${step}: unknown option '${prefix}${key}'${hint ? " (did you mean '${prefix}${hint}'?)" : ''}"
            }
            String problem = typeProblem(cfg[rawKey], types[key])
            if (problem) {
                return "${step}: option '${prefix}${key}' ${problem}"
            }
        }
        return null
    }

    /** Why `value` does not fit `type`, or null. Null values count as unset. */
    @NonCPS
    static String typeProblem(Object value, String type) {
        if (value == null) {
            return null
        }
        String got = "got ${typeName(value)}"
        switch (type) {
            case 'string':
                return value instanceof CharSequence ? null : "must be a String, ${got}"
            case 'boolean':
                return value instanceof Boolean ? null : "must be true or false, ${got}"
            case 'bool-or-string':
                return (value instanceof Boolean || value instanceof CharSequence) ? null :
                    "must be true, false or a String, ${got}"
            case 'number':
                return (value instanceof Integer || value instanceof Long || value instanceof BigInteger) ? null :
                    "must be a whole number, ${got}"
            case 'list':
                if (value instanceof CharSequence) {
                    return null
                }
                if (!(value instanceof List)) {
                    return "must be a List or a String, ${got}"
                }
                for (Object item : (List) value) {
                    if (!(item instanceof CharSequence || item instanceof Number)) {
                        return "must be a List of Strings or numbers, but one item is ${typeName(item)}"
                    }
                }
                return null
            case 'map':
                if (value instanceof Map) {
                    return null
                }
                if (value instanceof List) {
                    for (Object item : (List) value) {
                        if (!(item instanceof CharSequence) || !item.toString().contains('=')) {
                            return "must be a Map or a List of 'KEY=value' Strings"
                        }
                    }
                    return null
                }
                return "must be a Map or a List of 'KEY=value' Strings, ${got}"
            case 'section':
                return value instanceof Map ? null : "must be a Map, ${got}"
            case 'map-or-false':
                return (value instanceof Map || value == false) ? null : "must be a Map (or false to skip the stage), ${got}"
            default:
                return "has an unknown type '${type}'"
        }
    }

    @NonCPS
    static String typeName(Object value) {
        if (value instanceof CharSequence) {
            return 'a String'
        }
        if (value instanceof Boolean) {
            return 'a Boolean'
        }
        if (value instanceof Number) {
            return 'a number'
        }
        if (value instanceof List) {
            return 'a List'
        }
        if (value instanceof Map) {
            return 'a Map'
        }
        if (value instanceof Closure) {
            return 'a Closure'
        }
        return "a ${value.getClass().simpleName}"
    }

    /** A known key that differs from `key` only by case, a plural s, or a dash/underscore spelling. */
    @NonCPS
    static String suggestion(String key, Collection<String> known) {
        String norm = normalize(key)
        for (String candidate : known) {
            String c = normalize(candidate)
            if (c == norm || c + 's' == norm || c == norm + 's') {
                return candidate
            }
        }
        return null
    }

    @NonCPS
    private static String normalize(String key) {
        return key.toLowerCase().replaceAll('[-_]', '')
    }

    /**
     * The CLI arguments for `command` from `cfg`: a list of [flag, value] pairs, value null for a bare flag.
     * Only keys of the command's table are used (wrapper options are not CLI flags). Flags come from the table,
     * never from the user; values travel to the shell through environment variables (see Gantry.run).
     */
    @NonCPS
    static List<List<String>> toArgs(String command, Map cfg) {
        List<List<String>> out = []
        CLI[command].each { String key, List spec ->
            Object value = cfg[key]
            if (value == null) {
                return
            }
            String flag = '--' + spec[0]
            String type = spec[1]
            boolean commaSeparated = spec.size() > 2 && spec[2]
            switch (type) {
                case 'boolean':
                    out << [value ? flag : '--no-' + spec[0], null]
                    break
                case 'list':
                    List items = value instanceof List ? (List) value : [value]
                    if (commaSeparated) {
                        out << [flag, items.collect { String.valueOf(it).trim() }.join(',')]
                    } else {
                        items.each { out << [flag, String.valueOf(it)] }
                    }
                    break
                case 'map':
                    if (value instanceof Map) {
                        ((Map) value).each { k, v -> out << [flag, "${k}=${v == null ? '' : v}".toString()] }
                    } else {
                        ((List) value).each { out << [flag, String.valueOf(it)] }
                    }
                    break
                default:
                    out << [flag, String.valueOf(value)]
            }
        }
        return out
    }

    /** The registry host of an image reference (docker.io when it names none), as the CLI computes it. */
    @NonCPS
    static String hostOf(String ref) {
        if (ref == null) {
            return null
        }
        String first = ref.tokenize('/')[0] ?: ''
        boolean hasHost = ref.contains('/') && (first.contains('.') || first.contains(':') || first == 'localhost')
        return hasHost ? first : 'docker.io'
    }

    /** `repo@sha256:…` / `repo:tag` → repo. */
    @NonCPS
    static String repositoryOf(String ref) {
        return ref.replaceAll('@sha256:[a-f0-9]+$', '').replaceAll(':[^:/]+$', '')
    }

    /** Points a CLI message that starts with a flag (`--severity-threshold: …`) at the step's option name. */
    @NonCPS
    static String explain(String message) {
        if (message == null) {
            return null
        }
        String line = message.readLines().find { it.trim() } ?: ''
        def matcher = line =~ /^--([a-z0-9-]+)(.*)$/
        if (matcher.matches()) {
            String flag = matcher.group(1)
            String camel = flag.replaceAll(/-([a-z0-9])/) { String all, String c -> c.toUpperCase() }
            return "${camel} (--${flag})${matcher.group(2)}"
        }
        return line.trim()
    }
}
