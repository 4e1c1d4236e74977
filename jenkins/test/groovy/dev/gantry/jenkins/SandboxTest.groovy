package dev.gantry.jenkins

import dev.gantry.jenkins.harness.PipelineHarness
import dev.gantry.jenkins.harness.RunResult
import groovy.json.JsonOutput
import groovy.json.JsonSlurperClassic
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test

import java.security.KeyPair
import java.security.KeyPairGenerator
import java.security.spec.ECGenParameterSpec
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse

import static org.junit.jupiter.api.Assertions.assertEquals
import static org.junit.jupiter.api.Assertions.assertFalse
import static org.junit.jupiter.api.Assertions.assertNull
import static org.junit.jupiter.api.Assertions.assertTrue
import static org.junit.jupiter.api.Assumptions.assumeTrue

/**
 * The library against the local sandbox (REGISTRY, KUBECONFIG, KUBECTL, PROMETHEUS_URL and the trivy settings
 * from `node scripts/testbed.mjs up`): the real CLI bundle from resources/, real buildah, trivy, registry,
 * Kubernetes API server and Prometheus. Skipped when the sandbox's variables are not set; the vitest wrapper
 * (test/integration/jenkins.test.ts) always sets them and requires that nothing was skipped.
 */
class SandboxTest {

    static String registry
    static String kubeconfig
    static String kubectl
    static final String ID = Long.toString(System.currentTimeMillis(), 36)
    static final String V1 = fakeImage('jenkins-v1')
    static final String V2 = fakeImage('jenkins-v2')
    static int namespaces = 0
    static final List<String> CREATED = Collections.synchronizedList(new ArrayList<String>())

    @BeforeAll
    static void sandbox() {
        assumeTrue(TestSupport.sandboxUp(), 'the sandbox is not up (REGISTRY, KUBECONFIG, KUBECTL unset)')
        registry = System.getenv('REGISTRY')
        kubeconfig = System.getenv('KUBECONFIG')
        kubectl = System.getenv('KUBECTL')
    }

    /** Best effort: the namespaces and the local images this class made. */
    @AfterAll
    static void cleanUp() {
        if (!TestSupport.sandboxUp()) {
            return
        }
        CREATED.each { String ns ->
            try {
                run(kubectl, '--kubeconfig', kubeconfig, 'delete', 'namespace', ns, '--wait=false')
            } catch (IllegalStateException ignored) {
                // already gone
            }
        }
        String images = run('buildah', '--storage-driver', 'vfs', 'images', '--format', '{{.Name}}:{{.Tag}}')
        images.readLines().findAll { it.contains('/jenkins-it/') && it.contains(ID) }.each { String image ->
            try {
                run('buildah', '--storage-driver', 'vfs', 'rmi', '--force', image)
            } catch (IllegalStateException ignored) {
                // removed with an earlier tag of the same image
            }
        }
    }

    /** A syntactically valid digest reference that differs per seed (KWOK pods never pull images). */
    static String fakeImage(String seed) {
        String hex = seed.bytes.encodeHex().toString().padRight(64, '0').substring(0, 64)
        return "127.0.0.1:5000/shop/web@sha256:${hex}"
    }

    private PipelineHarness harness(File workspace = TestSupport.tempDir('gantry-jk-ws-')) {
        PipelineHarness h = TestSupport.harness(workspace)
        h.credentials.registry = [type: 'usernamePassword', username: 'robot', password: marker]
        h.credentials.kubeconfig = [type: 'file', content: new File(kubeconfig).text, fileName: 'kubeconfig']
        return h
    }

    /** The registry password planted in every build here: it must never show up in any output. */
    private final String marker = "pw-${UUID.randomUUID()}-marker"

    private void assertNoSecrets(PipelineHarness h) {
        String out = h.capturedOutput()
        assertFalse(out.contains(marker), 'the registry password was printed')
        String keyData = new File(kubeconfig).readLines().find { it.contains('client-key-data') }
        if (keyData) {
            assertFalse(out.contains(keyData.split(':', 2)[1].trim()), 'the kubeconfig key was printed')
        }
        h.artifactsDir.eachFileRecurse(groovy.io.FileType.FILES) { File f ->
            assertFalse(f.text.contains(marker), "the registry password is in the artifact ${f}")
        }
    }

    // ------------------------------------------------------------------------------------------ the example

    @Test
    void exampleJenkinsfileBuildsScansPushesAndRollsOutACanary() {
        String ns = namespace()
        deployStable(ns)
        File workspace = TestSupport.tempDir('gantry-jk-example-')
        run('cp', '-R', new File(TestSupport.REPO, 'examples/service').path + '/.', workspace.path)
        // The example's gantry.yml, pointed at this test's namespace and shortened for the sandbox.
        File settings = new File(workspace, 'gantry.yml')
        settings.text = settings.text
            .replaceFirst(/(?m)^  namespace: .*$/, "  namespace: ${ns}")
            .replaceFirst(/(?m)^  steps: .*$/, '  steps: [20, 50]')
            .replaceFirst(/(?m)^  pause: .*$/, '  pause: 6s')
            .replaceFirst(/(?m)^  readyTimeout: .*$/, '  readyTimeout: 60s')
        TestSupport.gitInit(workspace)
        PipelineHarness h = harness(workspace)
        String repository = "jenkins-it/web-${ID}"
        h.baseEnv.GANTRY_EXAMPLE_IMAGE = "${registry}/${repository}".toString()

        long started = System.currentTimeMillis()
        RunResult r = h.runFile(new File(workspace, 'Jenkinsfile'))
        long seconds = (System.currentTimeMillis() - started).intdiv(1000)
        println("[jenkins example] ${r.result} in ${seconds}s")

        assertEquals('SUCCESS', r.result, r.log)
        assertEquals(['Checkout', 'Build', 'Scan', 'Push', 'Deploy'], h.stages)

        Map push = json(new File(h.artifactsDir, 'gantry-reports/push.json'))
        String digest = push.digest
        assertTrue(digest ==~ /sha256:[0-9a-f]{64}/, digest)
        assertTrue(push.refs.any { it.endsWith(':main') }, "tags from git: ${push.refs}")
        assertTrue(push.refs.any { it ==~ /.*:sha-[0-9a-f]{7}/ }, "tags from git: ${push.refs}")
        push.refs.each { String ref ->
            assertEquals(digest, registryDigest(repository, ref.substring(ref.lastIndexOf(':') + 1)), ref)
        }

        Map scan = json(new File(h.artifactsDir, 'gantry-reports/scan.json'))
        assertTrue(scan.passed)
        Map deploy = json(new File(h.artifactsDir, 'gantry-reports/deploy.json'))
        String released = "${registry}/${repository}@${digest}"
        assertEquals('promoted', deploy.verdict)
        assertEquals(released, deploy.image)
        assertEquals(V1, deploy.previousImage)
        assertEquals(['passed', 'passed'], deploy.steps*.result)
        assertEquals("${released}: promoted".toString(), h.currentBuild.description)
        assertEquals(released, deploymentImage(ns, 'web'))

        List<String> archived = h.archived*.files.flatten()
        ['gantry-reports/build.json', 'gantry-reports/scan.json', 'gantry-reports/scan-junit.xml',
         'gantry-reports/scan.sarif', 'gantry-reports/scan.md', 'gantry-reports/push.json', 'gantry-reports/deploy.json',
         'gantry-reports/rollout/rollout.json', 'gantry-reports/rollout/rollout.md', 'gantry-reports/rollout/rollout.svg'].each {
            assertTrue(archived.contains(it), "${it} archived: ${archived}")
            assertTrue(new File(h.artifactsDir, it).length() > 0, it)
        }
        assertEquals(1, h.junitReports.size())
        assertEquals('gantry-reports/scan-junit.xml', h.junitReports[0].file)
        assertEquals(0, h.junitReports[0].failures)

        // The credentials reached the CLI (and only its environment), and were printed nowhere.
        Map pushCall = h.shCalls.find { it.label == 'gantry push' }
        assertEquals(marker, pushCall.env.GANTRY_REGISTRY_PASSWORD)
        assertEquals(registry, pushCall.env.GANTRY_REGISTRY)
        assertTrue(h.shCalls.find { it.label == 'gantry deploy' }.env.KUBECONFIG.toString().endsWith('/kubeconfig'))
        assertNull(h.baseEnv.KUBECONFIG, 'the agent has no kubeconfig of its own: it came from the credential')
        assertNoSecrets(h)
    }

    // ------------------------------------------------------------------------------------------ supply chain

    private static String pemOf(String type, byte[] der) {
        String body = Base64.mimeEncoder.encodeToString(der).replace('\r', '')
        return "-----BEGIN ${type}-----\n${body}\n-----END ${type}-----\n"
    }

    /** A workspace with a one-file image, a fresh P-256 key pair (cosign.pub in the workspace) and the key PEM. */
    private Map signingWorkspace(String content) {
        File ws = TestSupport.tempDir('gantry-jk-sign-')
        new File(ws, 'hello.txt').text = "${content} ${ID}\n"
        new File(ws, 'Dockerfile').text = 'FROM scratch\nCOPY hello.txt /hello.txt\n'
        KeyPairGenerator generator = KeyPairGenerator.getInstance('EC')
        generator.initialize(new ECGenParameterSpec('secp256r1'))
        KeyPair pair = generator.generateKeyPair()
        new File(ws, 'cosign.pub').text = pemOf('PUBLIC KEY', pair.public.encoded)
        TestSupport.gitInit(ws)
        return [workspace: ws, key: pemOf('PRIVATE KEY', pair.private.encoded)]
    }

    @Test
    void pipelineSignsWithASecretFileKeyBeforeADeployWhosePolicyVerifiesIt() {
        String ns = namespace()
        deployStable(ns)
        Map signing = signingWorkspace('signed')
        PipelineHarness h = harness((File) signing.workspace)
        h.credentials.cosign = [type: 'file', content: signing.key, fileName: 'cosign.key']
        RunResult r = h.run('''
            def release = gantryPipeline(image: IMAGE, signingKeyCredentialsId: 'cosign',
                kubeconfigCredentialsId: 'kubeconfig',
                deploy: [manifests: APP, container: 'app', namespace: NS, name: 'web', strategy: 'rolling',
                         readyTimeout: '60s', publicKeyFile: 'cosign.pub',
                         require: ['slsaprovenance1', 'cyclonedx', 'vuln'], maxCritical: 0])
            gantryVerify(image: release.image, publicKeyFile: 'cosign.pub', require: ['slsaprovenance1', 'cyclonedx'])
            return release
        ''', [IMAGE: "${registry}/jenkins-it/signed-${ID}".toString(), APP: writeApp(), NS: ns])
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals(['Build', 'Scan', 'Push', 'Sign', 'Deploy'], h.stages)
        Map sign = (Map) r.value.sign
        assertEquals(r.value.image, sign.image)
        assertTrue(sign.signature ==~ /.*@sha256:[0-9a-f]{64}/, sign.signature.toString())
        assertEquals(['https://cosign.sigstore.dev/attestation/vuln/v1', 'https://cyclonedx.org/bom',
                      'https://slsa.dev/provenance/v1'], ((List) sign.attestations)*.predicateType.sort())
        assertEquals('gantry-reports/sbom.cdx.json', sign.sbom)
        List<String> archived = h.archived*.files.flatten()
        ['gantry-reports/sign.json', 'gantry-reports/sbom.cdx.json', 'gantry-reports/verify.json'].each {
            assertTrue(archived.contains(it), "${it} archived: ${archived}")
        }
        assertEquals('CycloneDX', json(new File(h.artifactsDir, 'gantry-reports/sbom.cdx.json')).bomFormat)
        assertEquals(true, json(new File(h.artifactsDir, 'gantry-reports/verify.json')).verified)
        assertEquals('promoted', r.value.deploy.verdict)
        assertEquals(r.value.image, deploymentImage(ns, 'web'))
        String keyLine = signing.key.toString().readLines()[1]
        assertFalse(h.capturedOutput().contains(keyLine), 'the signing key was printed')
        Map signCall = h.shCalls.find { it.label == 'gantry sign' }
        assertFalse(signCall.script.toString().contains(keyLine))
        assertNoSecrets(h)
    }

    @Test
    void anUnsignedImageIsRefusedByGantryVerifyAndByADeployWithThePolicy() {
        String ns = namespace()
        deployStable(ns)
        Map signing = signingWorkspace('unsigned')
        PipelineHarness h = harness((File) signing.workspace)
        RunResult soft = h.run('''
            def built = gantryBuild(image: IMAGE, push: true)
            return gantryVerify(image: built.image + '@' + built.digest, publicKeyFile: 'cosign.pub', failOnGate: false)
        ''', [IMAGE: "${registry}/jenkins-it/unsigned-${ID}".toString()])
        assertEquals('UNSTABLE', soft.result, soft.log)
        assertFalse(soft.value.verified)
        assertTrue(h.unstableMessages[0].startsWith("gantryVerify: refused ${registry}/jenkins-it/unsigned-${ID}@sha256:"),
            h.unstableMessages.toString())
        String unsigned = soft.value.image

        PipelineHarness deploy = harness((File) signing.workspace)
        RunResult refused = deploy.run('''
            gantryDeploy(manifests: APP, image: ['app=' + UNSIGNED], namespace: NS, strategy: 'rolling',
                         kubeconfigCredentialsId: 'kubeconfig', publicKeyFile: 'cosign.pub')
        ''', [APP: writeApp(), UNSIGNED: unsigned, NS: ns])
        assertEquals('FAILURE', refused.result, refused.log)
        assertTrue(refused.errorMessage.startsWith('gantryDeploy: '), refused.errorMessage)
        assertTrue(refused.errorMessage.contains('refused'), refused.errorMessage)
        assertFalse(refused.errorMessage.contains('\n'))
        assertEquals(V1, deploymentImage(ns, 'web'), 'nothing applied')
    }

    // ------------------------------------------------------------------------------------------ scan gate

    /** An image that ships lodash 4.17.20 (CVE-2021-23337, high) in the sandbox's vulnerability database. */
    private File vulnerableWorkspace() {
        File ws = TestSupport.tempDir('gantry-jk-vuln-')
        new File(ws, 'vuln/node_modules/lodash').mkdirs()
        new File(ws, 'vuln/node_modules/lodash/package.json').text = '{"name":"lodash","version":"4.17.20","license":"MIT"}\n'
        new File(ws, 'vuln/Dockerfile').text = 'FROM scratch\nCOPY node_modules/ /app/node_modules/\nUSER 65532\n'
        TestSupport.gitInit(ws)
        return ws
    }

    @Test
    void vulnerableImageFailsTheBuildAndPublishesTheFailingJUnitReport() {
        PipelineHarness h = harness(vulnerableWorkspace())
        RunResult r = h.run('''
            def built = gantryBuild(image: IMAGE, context: 'vuln', tag: ['vuln'])
            gantryScan(image: built.refs[0], severityThreshold: 'high')
            echo 'not reached'
        ''', [IMAGE: "${registry}/jenkins-it/vuln-${ID}".toString()])
        assertEquals('FAILURE', r.result, r.log)
        assertTrue(r.errorMessage.startsWith('gantryScan: gate failed: '), r.errorMessage)
        assertTrue(r.errorMessage.contains('at or above high'), r.errorMessage)
        assertTrue(r.errorMessage.contains('CVE-2021-23337'), r.errorMessage)
        assertFalse(r.errorMessage.contains('\n'))
        assertFalse(r.log.contains('not reached'))
        assertEquals(1, h.junitReports.size())
        assertTrue(h.junitReports[0].failures > 0, h.junitReports.toString())
        assertTrue(h.archived*.files.flatten().containsAll(['gantry-reports/scan.json', 'gantry-reports/scan.sarif']))
        assertNoSecrets(h)
    }

    @Test
    void vulnerableImageWithFailOnGateFalseIsUnstableAndThePipelineStopsBeforePushing() {
        PipelineHarness h = harness(vulnerableWorkspace())
        RunResult r = h.run('''
            return gantryPipeline(image: IMAGE, failOnGate: false, registryCredentialsId: 'registry',
                                  build: [context: 'vuln'], scan: [severityThreshold: 'high'],
                                  deploy: [manifests: 'k8s/'])
        ''', [IMAGE: "${registry}/jenkins-it/vuln-${ID}-soft".toString()])
        assertEquals('UNSTABLE', r.result, r.log)
        assertEquals('scan', r.value.stoppedAt)
        assertFalse(r.value.scan.passed)
        assertNull(r.value.push)
        assertEquals(['Build', 'Scan'], h.stages)
        assertFalse(h.shCalls.any { it.label == 'gantry push' })
        assertTrue(h.unstableMessages[0].startsWith('gantryScan: gate failed: '), h.unstableMessages.toString())
        assertNoSecrets(h)
    }

    @Test
    void invalidInputFromTheRealCliIsOneLine() {
        PipelineHarness h = harness()
        RunResult r = h.run("gantryDeploy(manifests: 'does-not-exist/', kubeconfigCredentialsId: 'kubeconfig')")
        assertEquals('FAILURE', r.result, r.log)
        assertTrue(r.errorMessage.startsWith('gantryDeploy: manifests (--manifests): '), r.errorMessage)
        assertFalse(r.errorMessage.contains('\n'))
    }

    // ------------------------------------------------------------------------------------------ deploy gates

    private String deployCode(String extra, String block = '') {
        return """
            return gantryDeploy(manifests: APP, image: ['app=' + V2], namespace: NS, name: 'web', strategy: 'canary',
                                steps: [20, 50], pause: PAUSE, analysis: ANALYSIS, readyTimeout: '60s',
                                kubeconfigCredentialsId: 'kubeconfig', ${extra}) ${block}
        """
    }

    private Map deployVars(String ns, String pause) {
        String analysis = new File(TestSupport.REPO, 'examples/service/k8s/analysis.yaml').path
        return [APP: writeApp(), ANALYSIS: analysis, NS: ns, V2: V2, PAUSE: pause]
    }

    @Test
    void approvalPromotesBeforeTheStepsEnd() {
        String ns = namespace()
        deployStable(ns)
        PipelineHarness h = harness()
        h.inputHandler = { Map params -> [GANTRY_ACTION: 'promote', GANTRY_APPROVER: 'alice'] }
        long started = System.currentTimeMillis()
        RunResult r = h.run(deployCode('approval: true'), deployVars(ns, '20s'))
        long seconds = (System.currentTimeMillis() - started).intdiv(1000)
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals('promoted', r.value.verdict)
        // `gantry promote` skips the remaining steps; the CLI lets the current step's pause finish first.
        assertEquals(['passed'], r.value.steps*.result, 'step 2 was skipped')
        assertTrue(seconds < 40, "promote skipped the second 20 s step: took ${seconds}s")
        assertEquals(1, h.inputs.size())
        assertEquals('GantryRollout', h.inputs[0].id)
        assertEquals(['promote', 'abort'], h.inputs[0].parameters[0].choices)
        assertTrue(h.shCalls.any { it.label == 'gantry promote' && it.status == 0 })
        assertTrue(r.log.contains('gantryDeploy: promote requested by alice'), r.log)
        assertEquals(V2, deploymentImage(ns, 'web'))
        assertNoSecrets(h)
    }

    @Test
    void approvalAbortRollsBackAndWithFailOnGateFalseIsUnstable() {
        String ns = namespace()
        deployStable(ns)
        PipelineHarness h = harness()
        h.inputHandler = { Map params -> [GANTRY_ACTION: 'abort', GANTRY_APPROVER: 'bob'] }
        RunResult r = h.run(deployCode('approval: true, failOnGate: false'), deployVars(ns, '60s'))
        assertEquals('UNSTABLE', r.result, r.log)
        assertEquals('rolled-back', r.value.verdict)
        assertTrue(h.unstableMessages[0].startsWith("gantryDeploy: rolled-back: ${ns}/web: "), h.unstableMessages.toString())
        assertTrue(h.unstableMessages[0].endsWith('(aborted at the approval gate by bob)'), h.unstableMessages.toString())
        assertEquals(V1, deploymentImage(ns, 'web'), 'the stable Deployment was never touched')
        assertEquals('', run(kubectl, '--kubeconfig', kubeconfig, '-n', ns, 'get', 'deployment', '--ignore-not-found', 'web-canary').trim())
    }

    @Test
    @SuppressWarnings('GStringExpressionWithinString') // pipeline code, interpolated by the pipeline
    void aFailingVerificationBlockRollsBack() {
        String ns = namespace()
        deployStable(ns)
        PipelineHarness h = harness()
        RunResult r = h.run(deployCode('failOnGate: true', '''{ status ->
                echo "verifying ${status.canary.name} at ${status.weight}%"
                sh 'echo smoke test against the canary; exit 3'
            }'''), deployVars(ns, '60s'))
        assertEquals('FAILURE', r.result, r.log)
        assertTrue(r.errorMessage.startsWith("gantryDeploy: rolled-back: ${ns}/web: "), r.errorMessage)
        assertTrue(r.errorMessage.endsWith('(verification failed: script returned exit code 3)'), r.errorMessage)
        assertTrue(r.log.contains('verifying web-canary at 20%'), r.log)
        assertEquals(V1, deploymentImage(ns, 'web'))
    }

    @Test
    void theApprovalInputClosesWhenTheRolloutEndsByItself() {
        String ns = namespace()
        deployStable(ns)
        PipelineHarness h = harness()
        h.inputHandler = { Map params -> Thread.sleep(600_000); [GANTRY_ACTION: 'abort'] } // nobody answers
        RunResult r = h.run(deployCode('approval: true'), deployVars(ns, '3s'))
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals('promoted', r.value.verdict)
        assertEquals(1, h.inputs.size())
        assertEquals(V2, deploymentImage(ns, 'web'))
    }

    @Test
    void approvalAtEachGateReleasesItAndTheRolloutGoesOn() {
        String ns = namespace()
        deployStable(ns)
        PipelineHarness h = harness()
        int answered = 0
        // A person answers once the rollout waits at the gate (the lease records it), whenever the input appeared.
        h.inputHandler = { Map params ->
            untilWaitingAt(ns, answered)
            answered++
            [GANTRY_ACTION: 'promote', GANTRY_APPROVER: 'carol']
        }
        RunResult r = h.run('''
            return gantryDeploy(manifests: APP, image: ['app=' + V2], namespace: NS, name: 'web', strategy: 'canary',
                                steps: ['20:until-promoted', '40:until-promoted', '60:2s'], gateTimeout: '10m',
                                readyTimeout: '60s', kubeconfigCredentialsId: 'kubeconfig', approval: true)
        ''', [APP: writeApp(), NS: ns, V2: V2])
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals('promoted', r.value.verdict)
        // Each promote released one gate: no step was skipped.
        assertEquals(['passed', 'passed', 'passed'], r.value.steps*.result)
        assertEquals(2, h.inputs.size())
        assertTrue(h.inputs[1].message.toString().contains('waits at step 2 (40% of traffic) for a person'),
            h.inputs[1].message.toString())
        assertEquals(V2, deploymentImage(ns, 'web'))
        assertNoSecrets(h)
    }

    // ------------------------------------------------------------------------------------------ confirm gates

    /**
     * Runs a canary with `approval: true` and one command hook of `type`, by default one that always answers "not yet"
     * (more.command: another argv). The input at that confirm gate is answered `action` by `by` (after more.onAsked;
     * a null action: nobody answers it); another input gets more.elsewhere's answer, or none. more.steps: the steps;
     * more.extra: more options; more.block: a verification block. Returns [harness, result, the inputs at the gate].
     */
    private List confirmRun(String ns, String type, String action, String by, Map more = [:]) {
        deployStable(ns)
        PipelineHarness h = harness()
        String question = "waits for its ${type} hooks"
        h.inputHandler = { Map params ->
            if (params.message.toString().contains(question)) {
                ((Closure) more.onAsked)?.call()
                if (action != null) {
                    return [GANTRY_ACTION: action, GANTRY_APPROVER: by]
                }
            } else if (more.elsewhere) {
                return ((Closure) more.elsewhere).call()
            }
            Thread.sleep(600_000)
            throw new IllegalStateException('nobody answers this input')
        }
        File hooks = new File(TestSupport.tempDir('gantry-jk-hooks-'), 'hooks.yaml')
        String command = JsonOutput.toJson(more.command ?: ['false']) // JSON is YAML
        hooks.text = "hooks:\n  - name: freeze\n    type: ${type}\n    command: ${command}\n    interval: 1s\n"
        RunResult r = h.run("""
            return gantryDeploy(manifests: APP, image: ['app=' + V2], namespace: NS, name: 'web', strategy: 'canary',
                                steps: ${more.steps ?: '[20, 50]'}, pause: '2s', hooks: HOOKS, gateTimeout: '3m',
                                readyTimeout: '60s', kubeconfigCredentialsId: 'kubeconfig',
                                approval: true ${more.extra ?: ''}) ${more.block ?: ''}
        """, [APP: writeApp(), NS: ns, V2: V2, HOOKS: hooks.path])
        return [h, r, h.inputs.findAll { it.message.toString().contains(question) }]
    }

    @Test
    void approvalConfirmsAConfirmPromotionGate() {
        String ns = namespace()
        def (PipelineHarness h, RunResult r, List<Map> asked) = confirmRun(ns, 'confirm-promotion', 'promote', 'dana')
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals('promoted', r.value.verdict)
        // Confirmed at the gate after the last step: no step was skipped.
        assertEquals(['passed', 'passed'], r.value.steps*.result)
        assertEquals(1, asked.size(), h.inputs*.message.toString())
        assertEquals("The rollout of ${ns}/web waits for its confirm-promotion hooks before promotion ".toString() +
            '(50% of traffic on the new version). Confirm (promote) or abort?', asked[0].message)
        assertEquals(['promote', 'abort'], asked[0].parameters[0].choices)
        Map confirm = r.value.hooks.find { it.type == 'confirm-promotion' }
        assertEquals('freeze', confirm?.hook, r.value.hooks.toString())
        assertEquals('pass', confirm.result)
        assertTrue(confirm.message.startsWith('confirmed by `gantry promote`'), confirm.message)
        assertTrue(r.log.contains('gantryDeploy: promote requested by dana'), r.log)
        assertEquals(V2, deploymentImage(ns, 'web'))
        assertNoSecrets(h)
    }

    @Test
    void approvalAbortsAtAConfirmPromotionGate() {
        String ns = namespace()
        def (PipelineHarness h, RunResult r, List<Map> asked) = confirmRun(ns, 'confirm-promotion', 'abort', 'erin',
            [extra: ', failOnGate: false'])
        assertEquals('UNSTABLE', r.result, r.log)
        assertEquals('rolled-back', r.value.verdict)
        assertEquals(1, asked.size(), h.inputs*.message.toString())
        assertTrue(h.unstableMessages[0].startsWith("gantryDeploy: rolled-back: ${ns}/web: "), h.unstableMessages.toString())
        assertTrue(h.unstableMessages[0].endsWith('(aborted at the approval gate by erin)'), h.unstableMessages.toString())
        assertFalse(r.value.reason.toString().contains('gate timeout'), r.value.reason.toString())
        assertEquals(V1, deploymentImage(ns, 'web'), 'the stable Deployment was never touched')
        assertEquals('', run(kubectl, '--kubeconfig', kubeconfig, '-n', ns, 'get', 'deployment', '--ignore-not-found', 'web-canary').trim())
    }

    @Test
    @SuppressWarnings('GStringExpressionWithinString') // pipeline code, interpolated by the pipeline
    void approvalConfirmsAConfirmRolloutGateBeforeAnythingExists() {
        String ns = namespace()
        List<String> canaryWhenAsked = Collections.synchronizedList(new ArrayList<String>())
        Closure onAsked = {
            canaryWhenAsked << run(kubectl, '--kubeconfig', kubeconfig, '-n', ns, 'get', 'deployment', '--ignore-not-found',
                'web-canary', '-o', 'name').trim()
        }
        String block = '''{ status ->
                echo "verifying ${status.canary.name} (${status.canary.ready} ready) at ${status.weight}%"
            }'''
        // A gate at the first step holds the canary serving traffic until the block ran and its input was answered.
        def (PipelineHarness h, RunResult r, List<Map> asked) = confirmRun(ns, 'confirm-rollout', 'promote', 'frank',
            [onAsked: onAsked, block: block, steps: "['20:until-promoted', 50]",
             elsewhere: { untilWaitingAt(ns, 0); [GANTRY_ACTION: 'promote', GANTRY_APPROVER: 'gina'] }])
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals('promoted', r.value.verdict)
        assertEquals(['passed', 'passed'], r.value.steps*.result)
        assertEquals(1, asked.size(), h.inputs*.message.toString())
        assertTrue(asked[0].is(h.inputs[0]), 'the first input')
        assertEquals("The rollout of ${ns}/web waits for its confirm-rollout hooks before anything is created. ".toString() +
            'Confirm (start the rollout) or abort?', asked[0].message)
        assertEquals([''], canaryWhenAsked, 'no canary Deployment existed when the input was asked')
        Map confirm = r.value.hooks.find { it.type == 'confirm-rollout' }
        assertEquals('pass', confirm?.result, r.value.hooks.toString())
        assertTrue(confirm.message.startsWith('confirmed by `gantry promote`'), confirm.message)
        // The verification block ran once, after the confirmation, against a canary serving traffic.
        List<String> lines = new ArrayList<String>(h.logLines)
        int confirmed = lines.findIndexOf { it.contains('gantryDeploy: promote requested by frank') }
        List<String> verifying = lines.findAll { it.contains('verifying web-canary') }
        assertEquals(1, verifying.size(), r.log)
        assertTrue(confirmed >= 0 && lines.indexOf(verifying[0]) > confirmed, r.log)
        assertFalse(verifying[0].contains('(0 ready)') || verifying[0].contains(' at 0%'), verifying[0])
        assertEquals(V2, deploymentImage(ns, 'web'))
        assertNoSecrets(h)
    }

    @Test
    void theInputAtAConfirmGateClosesWhenTheHooksConfirmFirst() {
        String ns = namespace()
        // The hook says yes once the file exists; the test creates it when the input is asked, and leaves the input.
        File go = new File(TestSupport.tempDir('gantry-jk-go-'), 'go')
        def (PipelineHarness h, RunResult r, List<Map> asked) = confirmRun(ns, 'confirm-rollout', null, null,
            [command: ['test', '-e', go.path], onAsked: { go.text = 'yes' }, steps: "['20:until-promoted', 50]",
             elsewhere: { untilWaitingAt(ns, 0); [GANTRY_ACTION: 'promote', GANTRY_APPROVER: 'gina'] }])
        assertEquals('SUCCESS', r.result, r.log)
        assertEquals('promoted', r.value.verdict)
        assertEquals(['passed', 'passed'], r.value.steps*.result)
        assertEquals(1, asked.size(), h.inputs*.message.toString())
        // The open input was closed when the hooks confirmed: the step gate got an input of its own.
        assertEquals(2, h.inputs.size(), h.inputs*.message.toString())
        assertTrue(asked[0].is(h.inputs[0]), 'the first input')
        assertFalse(h.inputs[1].message.toString().contains('confirm-rollout'), h.inputs[1].message.toString())
        Map confirm = r.value.hooks.find { it.type == 'confirm-rollout' }
        assertEquals('pass', confirm?.result, r.value.hooks.toString())
        assertFalse(confirm.message.startsWith('confirmed by `gantry promote`'), confirm.message)
        assertEquals(1, h.shCalls.count { it.label == 'gantry promote' }, 'only the step gate was promoted')
        assertEquals(V2, deploymentImage(ns, 'web'))
    }

    // ------------------------------------------------------------------------------------------ helpers

    /** Polls the state the run records on its Lease until the rollout waits at the gate of step `index` (0-based). */
    private void untilWaitingAt(String ns, int index) {
        long deadline = System.currentTimeMillis() + 120_000
        while (true) {
            String state = run(kubectl, '--kubeconfig', kubeconfig, '-n', ns, 'get', 'lease', 'gantry-web',
                '--ignore-not-found', '-o', 'jsonpath={.metadata.annotations.gantry\\.dev/state}')
            if (state.contains('"phase":"waiting"') && state.contains("\"step\":${index},")) {
                return
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("the rollout never waited at step ${index + 1}: ${state}")
            }
            Thread.sleep(500)
        }
    }

    private String namespace() {
        String ns = "jk-${ID}-${namespaces++}"
        run(kubectl, '--kubeconfig', kubeconfig, 'create', 'namespace', ns)
        CREATED << ns
        return ns
    }

    /** A first version deployed with the CLI directly, so that a canary has a stable version beside it. */
    private void deployStable(String ns) {
        String out = TestSupport.runEnv(TestSupport.REPO, [KUBECONFIG: kubeconfig], 'node',
            new File(TestSupport.LIBRARY, 'resources/dev/gantry/cli.js').path, '--json', '--quiet', 'deploy',
            '--manifests', writeApp(), '--image', "app=${V1}".toString(), '--namespace', ns, '--strategy', 'rolling',
            '--ready-timeout', '60s')
        assertEquals('promoted', new JsonSlurperClassic().parseText(out).verdict)
    }

    /** The example's manifests (Deployment web with container app, Service web) in a fresh directory. */
    private static String writeApp() {
        File dir = TestSupport.tempDir('gantry-jk-app-')
        new File(dir, 'app.yaml').text = new File(TestSupport.REPO, 'examples/service/k8s/app.yaml').text
        return new File(dir, 'app.yaml').path
    }

    private String deploymentImage(String ns, String name) {
        return run(kubectl, '--kubeconfig', kubeconfig, '-n', ns, 'get', 'deployment', name, '-o',
            'jsonpath={.spec.template.spec.containers[0].image}').trim()
    }

    private static String run(String... command) {
        return TestSupport.run(TestSupport.REPO, command)
    }

    private static Map json(File file) {
        return (Map) new JsonSlurperClassic().parse(file)
    }

    /** The manifest digest the registry serves for repository:tag, asked over the registry API. */
    private static String registryDigest(String repository, String tag) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://${registry}/v2/${repository}/manifests/${tag}"))
            .method('HEAD', HttpRequest.BodyPublishers.noBody())
            .header('Accept', ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json',
                               'application/vnd.docker.distribution.manifest.v2+json',
                               'application/vnd.docker.distribution.manifest.list.v2+json'].join(', '))
            .build()
        HttpResponse<Void> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.discarding())
        return response.statusCode() == 200 ? response.headers().firstValue('docker-content-digest').orElse(null) : null
    }
}
