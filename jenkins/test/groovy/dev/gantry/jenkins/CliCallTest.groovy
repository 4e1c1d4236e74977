package dev.gantry.jenkins

import dev.gantry.jenkins.harness.PipelineHarness
import dev.gantry.jenkins.harness.RunResult
import groovy.json.JsonOutput
import org.junit.jupiter.api.Test

import static org.junit.jupiter.api.Assertions.assertEquals
import static org.junit.jupiter.api.Assertions.assertFalse
import static org.junit.jupiter.api.Assertions.assertNotNull
import static org.junit.jupiter.api.Assertions.assertTrue

/**
 * How the steps call the CLI, with a fake `node` (test/fixtures/fake-node) that records its argv and
 * environment and answers with a given JSON result and exit code: quoting, credentials, exit-code mapping.
 * `sh` really runs (sh -xe, as on an agent).
 */
class CliCallTest {

    private final PipelineHarness h = TestSupport.harness()
    private final File record = new File(h.workspace.path + '@tmp', 'fake-node')

    private RunResult fake(String code, Map<String, Object> vars = [:], Object stdout = null, int exit = 0) {
        h.baseEnv.FAKE_NODE_RECORD = record.path
        h.baseEnv.FAKE_NODE_EXIT = String.valueOf(exit)
        if (stdout != null) {
            h.baseEnv.FAKE_NODE_STDOUT = stdout instanceof String ? (String) stdout : JsonOutput.toJson(stdout)
        }
        return h.run(code, [FAKE_NODE: TestSupport.FAKE_NODE.path] + vars)
    }

    private static final Map PASSED = [passed: true, image: 'app:1', threshold: 'high', counts: [:], findings: [], failing: []]
    private static final Map FAILED = [passed: false, image: 'app:1', threshold: 'high',
                                       counts: [critical: 0, high: 1, medium: 2, low: 0, unknown: 0],
                                       findings: [[id: 'CVE-2021-23337']], failing: [[id: 'CVE-2021-23337']]]

    @Test
    @SuppressWarnings('GStringExpressionWithinString') // shell syntax, on purpose
    void valuesReachTheCliVerbatimAndTheShellNeverParsesThem() {
        List<String> evil = [
            '$(touch PWNED)',
            '`touch PWNED`',
            "it's \"quoted\" \\ \$HOME \${PATH}",
            'two  words\tand a tab',
            'line one\nline two; touch PWNED',
            '--json',
            "'; touch PWNED; echo '",
            '*',
        ]
        RunResult r = fake('''
            gantryScan(node: FAKE_NODE, image: EVIL[0], ignoreFile: EVIL[1], severityThreshold: EVIL[2],
                       sarif: EVIL[3], junit: EVIL[4], markdown: EVIL[5], gitlabReport: EVIL[6], scanners: EVIL[7],
                       ignoreUnfixed: false)
        ''', [EVIL: evil], PASSED)
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals(['.gantry/cli.mjs', '--json', 'scan',
                      '--image', evil[0],
                      '--severity-threshold', evil[2],
                      '--no-ignore-unfixed',
                      '--ignore-file', evil[1],
                      '--scanners', evil[7],
                      '--sarif', evil[3],
                      '--gitlab-report', evil[6],
                      '--junit', evil[4],
                      '--markdown', evil[5]], TestSupport.readArgv(record))
        assertFalse(new File(h.workspace, 'PWNED').exists(), 'no value was run by the shell')
        h.shCalls.each { Map call ->
            [evil[0], evil[1], evil[2], evil[4], evil[6]].each { assertFalse(call.script.toString().contains(it), "value in script: ${call.script}") }
        }
    }

    @Test
    void listsMapsAndBooleansBecomeRepeatedFlags() {
        RunResult r = fake('''
            gantryBuild(node: FAKE_NODE, image: 'registry.example.com/shop/web', context: 'app', tag: ['rc', 'build-7'],
                        buildArg: [VERSION: '1.2', EMPTY: null], label: ['team=shop'], push: true, retries: 2,
                        latest: false)
        ''', [:], [image: 'registry.example.com/shop/web', refs: ['registry.example.com/shop/web:rc'], tags: ['rc']])
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals(['.gantry/cli.mjs', '--json', 'build', '--image', 'registry.example.com/shop/web', '--context', 'app',
                      '--tag', 'rc', '--tag', 'build-7', '--latest', 'false', '--build-arg', 'VERSION=1.2',
                      '--build-arg', 'EMPTY=', '--label', 'team=shop', '--push', '--retries', '2'],
            TestSupport.readArgv(record))
        assertEquals('registry.example.com/shop/web:rc', r.value.refs[0])
    }

    @Test
    void commaListsAndDeployFlags() {
        RunResult r = fake('''
            gantryDeploy(node: FAKE_NODE, manifests: ['k8s/app.yaml', 'k8s/extra'], image: 'app=r/app@sha256:abc',
                         namespace: 'shop', steps: [10, 25, 50], pause: '30s', resume: true, leaseDuration: 20,
                         config: 'ci/gantry.yml', quiet: true)
        ''', [:], [verdict: 'promoted', name: 'web', namespace: 'shop'])
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals(['.gantry/cli.mjs', '--json', '--quiet', '--config', 'ci/gantry.yml', 'deploy',
                      '--manifests', 'k8s/app.yaml', '--manifests', 'k8s/extra', '--image', 'app=r/app@sha256:abc',
                      '--namespace', 'shop', '--steps', '10,25,50', '--pause', '30s', '--lease-duration', '20',
                      '--resume', '--report', 'gantry-reports/rollout'], TestSupport.readArgv(record))
    }

    @Test
    void aChartInsteadOfManifests() {
        RunResult r = fake('''
            gantryDeploy(node: FAKE_NODE, chart: 'charts/web', values: ['charts/prod.yaml'],
                         set: ['image.tag=1.2', 'replicaCount=3'], release: 'shop', image: 'app=r/app@sha256:abc')
        ''', [:], [verdict: 'promoted', name: 'shop-web', namespace: 'default'])
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals(['.gantry/cli.mjs', '--json', 'deploy', '--chart', 'charts/web', '--values', 'charts/prod.yaml',
                      '--set', 'image.tag=1.2', '--set', 'replicaCount=3', '--release', 'shop',
                      '--image', 'app=r/app@sha256:abc', '--report', 'gantry-reports/rollout'],
            TestSupport.readArgv(record))
    }

    @Test
    void credentialsReachTheCliOnlyThroughItsEnvironment() {
        String marker = "pw-marker-${UUID.randomUUID()}"
        h.credentials.registry = [type: 'usernamePassword', username: 'robot', password: marker]
        RunResult r = fake('''
            gantryPush(node: FAKE_NODE, image: 'app:1', to: ['registry.example.com:5000/shop/web:1'],
                       registryCredentialsId: 'registry')
        ''', [:], [digest: 'sha256:' + 'a' * 64, refs: ['registry.example.com:5000/shop/web:1']])
        assertEquals('SUCCESS', r.result, r.log)
        Map<String, String> env = TestSupport.readEnv(record)
        assertEquals('robot', env.GANTRY_REGISTRY_USERNAME)
        assertEquals(marker, env.GANTRY_REGISTRY_PASSWORD)
        assertEquals('registry.example.com:5000', env.GANTRY_REGISTRY)
        assertFalse(TestSupport.readArgv(record).any { it.contains(marker) }, 'not on argv')
        assertFalse(h.capturedOutput().contains(marker), 'not in any output')
        assertEquals(['usernamePassword'], h.credentialBindings*.kind)
    }

    @Test
    void kubeconfigComesFromASecretFileThatIsGoneAfterwards() {
        h.credentials.kube = [type: 'file', content: 'apiVersion: v1\nkind: Config\n', fileName: 'kubeconfig']
        RunResult r = fake("gantryDeploy(node: FAKE_NODE, manifests: 'k8s/', kubeconfigCredentialsId: 'kube')", [:],
            [verdict: 'promoted', name: 'web', namespace: 'default'])
        assertEquals('SUCCESS', r.result, r.log)
        String kubeconfig = TestSupport.readEnv(record).KUBECONFIG
        assertTrue(kubeconfig.endsWith('/kubeconfig'), kubeconfig)
        assertFalse(new File(kubeconfig).exists(), 'the secret file is removed after the step')
    }

    @Test
    @SuppressWarnings('GStringExpressionWithinString') // pipeline code, interpolated when it runs
    void signingKeyComesFromASecretFileAsKeyFileAndItsPasswordFromSecretText() {
        String pem = "-----BEGIN PRIVATE KEY-----\nkey-${UUID.randomUUID()}\n-----END PRIVATE KEY-----\n"
        String password = "pw-${UUID.randomUUID()}"
        h.credentials.cosign = [type: 'file', content: pem, fileName: 'cosign.key']
        h.credentials.cosignPassword = [type: 'string', secret: password]
        RunResult r = fake('''
            def signed = gantrySign(node: FAKE_NODE, image: 'registry.example.com/shop/web@sha256:' + 'a' * 64,
                                    signingKeyCredentialsId: 'cosign', keyPasswordCredentialsId: 'cosignPassword',
                                    sbom: true, provenance: 'provenance.json')
            echo "sbom ${signed.sbom}"
        ''', [:], [image: 'registry.example.com/shop/web@sha256:' + 'a' * 64, digest: 'sha256:' + 'a' * 64,
                   signature: 'registry.example.com/shop/web@sha256:' + 'b' * 64, attestations: []])
        assertEquals('SUCCESS', r.result, r.log)
        Map<String, String> env = TestSupport.readEnv(record)
        String keyFile = env.GANTRY_SIGNING_KEY_FILE
        assertTrue(keyFile.endsWith('/cosign.key'), keyFile)
        assertFalse(new File(keyFile).exists(), 'the secret file is removed after the step')
        assertEquals(password, env.GANTRY_SIGNING_KEY_PASSWORD)
        assertEquals(['.gantry/cli.mjs', '--json', 'sign', '--image', 'registry.example.com/shop/web@sha256:' + 'a' * 64,
                      '--key-password-env', 'GANTRY_SIGNING_KEY_PASSWORD', '--sbom',
                      '--sbom-output', 'gantry-reports/sbom.cdx.json', '--provenance', 'provenance.json',
                      '--key-file', keyFile], TestSupport.readArgv(record))
        assertFalse(h.capturedOutput().contains(password), 'the password is in no output')
        assertFalse(h.shCalls.any { it.script.toString().contains('key-') && it.script.toString().contains(keyFile) },
            'the key path is not written into the script')
        assertEquals(['file', 'string'], h.credentialBindings*.kind)
        assertTrue(r.log.contains('sbom gantry-reports/sbom.cdx.json'), r.log)
    }

    @Test
    void aRefusedImageStopsGantryVerifyWithTheReason() {
        RunResult r = fake("gantryVerify(node: FAKE_NODE, image: 'r.example.com/a:1', publicKeyFile: 'cosign.pub', maxCritical: 0)",
            [:], [image: 'r.example.com/a@sha256:' + 'c' * 64, digest: 'sha256:' + 'c' * 64, verified: false,
                  reason: 'no signature verifies with cosign.pub', reasons: []], 1)
        assertEquals('FAILURE', r.result, r.log)
        assertEquals("gantryVerify: refused r.example.com/a@sha256:${'c' * 64}: no signature verifies with cosign.pub".toString(),
            r.errorMessage)
        assertEquals(['.gantry/cli.mjs', '--json', 'verify', '--image', 'r.example.com/a:1', '--public-key-file', 'cosign.pub',
                      '--max-critical', '0'], TestSupport.readArgv(record))
    }

    @Test
    void unknownCredentials() {
        RunResult r = fake("gantryPush(node: FAKE_NODE, image: 'a:1', to: 'r.example.com/a:1', registryCredentialsId: 'nope')")
        assertEquals('FAILURE', r.result)
        assertEquals("Could not find credentials entry with ID 'nope'", r.errorMessage)
    }

    @Test
    void gateFailureStopsTheBuildWithOneLineAndStillPublishes() {
        RunResult r = fake("gantryScan(node: FAKE_NODE, image: 'app:1')", [:], FAILED, 1)
        assertEquals('FAILURE', r.result, r.log)
        assertEquals('gantryScan: gate failed: 1 finding(s) at or above high in app:1 (critical 0, high 1, medium 2, low 0): CVE-2021-23337',
            r.errorMessage)
        assertEquals(['gantry-reports/scan.json'], h.archived*.files.flatten())
    }

    @Test
    void gateFailureWithFailOnGateFalseIsUnstable() {
        RunResult r = fake("return gantryScan(node: FAKE_NODE, image: 'app:1', failOnGate: false)", [:], FAILED, 1)
        assertEquals('UNSTABLE', r.result, r.log)
        assertFalse(r.value.passed)
        assertEquals(1, h.unstableMessages.size())
        assertTrue(h.unstableMessages[0].startsWith('gantryScan: gate failed: 1 finding(s)'))
    }

    @Test
    void rollbackIsAGate() {
        Map report = [verdict: 'rolled-back', namespace: 'shop', name: 'web', reason: 'error-rate 0.5 > max 0.05 at step 1']
        RunResult r = fake("gantryDeploy(node: FAKE_NODE, manifests: 'k8s/')", [:], report, 1)
        assertEquals('FAILURE', r.result)
        assertEquals('gantryDeploy: rolled-back: shop/web: error-rate 0.5 > max 0.05 at step 1', r.errorMessage)
    }

    @Test
    void invalidInputNamesTheOption() {
        Map error = [error: '--severity-threshold: Invalid option: expected one of "critical"|"high"', exitCode: 2]
        RunResult r = fake("gantryScan(node: FAKE_NODE, image: 'app:1', severityThreshold: 'severe')", [:], error, 2)
        assertEquals('FAILURE', r.result)
        assertEquals('gantryScan: severityThreshold (--severity-threshold): Invalid option: expected one of "critical"|"high"',
            r.errorMessage)
    }

    @Test
    void infrastructureError() {
        Map error = [error: 'cluster unreachable: connect ECONNREFUSED 127.0.0.1:6443', exitCode: 3]
        RunResult r = fake("gantryDeploy(node: FAKE_NODE, manifests: 'k8s/')", [:], error, 3)
        assertEquals('gantryDeploy: infrastructure error: cluster unreachable: connect ECONNREFUSED 127.0.0.1:6443', r.errorMessage)
    }

    @Test
    void rollbackFailed() {
        Map report = [verdict: 'failed', namespace: 'shop', name: 'web', reason: 'rollback failed: web-canary still serves']
        RunResult r = fake("gantryDeploy(node: FAKE_NODE, manifests: 'k8s/', failOnGate: false)", [:], report, 4)
        assertEquals('FAILURE', r.result, 'failOnGate does not soften a failed rollback')
        assertEquals('gantryDeploy: ROLLBACK FAILED, page someone: rollback failed: web-canary still serves', r.errorMessage)
    }

    @Test
    void noResult() {
        RunResult r = fake("gantryPush(node: FAKE_NODE, image: 'a:1', to: 'r.example.com/a:1')", [:], 'not json', 1)
        assertEquals('gantryPush: the gantry CLI failed (exit 1) without a result (see the log above)', r.errorMessage)
    }

    @Test
    void nodeTooOld() {
        h.baseEnv.FAKE_NODE_OLD = '1'
        RunResult r = fake("gantryScan(node: FAKE_NODE, image: 'app:1')")
        assertEquals("gantryScan: the agent's Node.js is too old: gantry needs Node.js 22 or later (install it, or point 'node' at another executable)",
            r.errorMessage)
    }

    @Test
    void nodeMissing() {
        RunResult r = h.run("gantryScan(node: '/nonexistent/node', image: 'app:1')")
        assertEquals("gantryScan: cannot run Node.js ('/nonexistent/node') on the agent: install Node.js 22 or later, or point 'node' at its path",
            r.errorMessage)
    }

    @Test
    void theBundleIsWrittenOncePerBuild() {
        RunResult r = fake('''
            gantryScan(node: FAKE_NODE, image: 'app:1')
            gantryScan(node: FAKE_NODE, image: 'app:2')
        ''', [:], PASSED)
        assertEquals('SUCCESS', r.result, r.log)
        List<Map> writes = h.writtenFiles.findAll { it.file == '.gantry/cli.mjs' }
        assertEquals(1, writes.size())
        assertEquals(new File(TestSupport.LIBRARY, 'resources/dev/gantry/cli.js').length(), writes[0].length)
        assertEquals(2, h.shCalls.count { it.label == 'gantry scan' })
    }

    @Test
    void resultsAreArchived() {
        RunResult r = fake("gantryPush(node: FAKE_NODE, image: 'a:1', to: 'r.example.com/a:1', reportDir: 'out/reports')", [:],
            [digest: 'sha256:' + 'b' * 64, refs: ['r.example.com/a:1']])
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals(['out/reports/push.json'], h.archived*.files.flatten())
        assertNotNull(new File(h.artifactsDir, 'out/reports/push.json').text)
    }

    @Test
    void publishingCanBeTurnedOff() {
        RunResult r = fake("gantryScan(node: FAKE_NODE, image: 'app:1', publishReports: false)", [:], PASSED)
        assertEquals('SUCCESS', r.result, r.log)
        assertTrue(h.archived.isEmpty())
        assertTrue(h.junitReports.isEmpty())
    }
}
