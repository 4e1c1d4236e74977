package dev.gantry.jenkins

import dev.gantry.jenkins.harness.PipelineHarness
import dev.gantry.jenkins.harness.RunResult
import org.junit.jupiter.api.Test

import static org.junit.jupiter.api.Assertions.assertEquals
import static org.junit.jupiter.api.Assertions.assertFalse
import static org.junit.jupiter.api.Assertions.assertTrue

/**
 * Bad input stops a step with one line before anything runs; the steps' error messages name the option.
 * No CLI runs here (nothing reaches `sh`), so these need neither Node.js nor the sandbox.
 */
class StepInputTest {

    private final PipelineHarness h = TestSupport.harness()

    private void assertStopped(RunResult r, String message) {
        assertEquals('FAILURE', r.result, r.log)
        assertEquals(message, r.errorMessage)
        assertFalse(r.errorMessage.contains('\n'), 'one line')
        assertTrue(h.shCalls.isEmpty(), 'nothing ran')
    }

    @Test
    void unknownOption() {
        assertStopped(h.run("gantryScan(image: 'app:1', foo: 'x')"), "gantryScan: unknown option 'foo'")
    }

    @Test
    void unknownOptionCloseToAKnownOne() {
        assertStopped(h.run("gantryBuild(image: 'registry.example.com/app', tags: ['rc'])"),
            "gantryBuild: unknown option 'tags' (did you mean 'tag'?)")
    }

    @Test
    void optionOfAnotherStep() {
        assertStopped(h.run("gantryBuild(image: 'registry.example.com/app', severityThreshold: 'high')"),
            "gantryBuild: unknown option 'severityThreshold'")
    }

    @Test
    void wrongTypeBoolean() {
        assertStopped(h.run("gantryScan(image: 'app:1', ignoreUnfixed: 'yes')"),
            "gantryScan: option 'ignoreUnfixed' must be true or false, got a String")
    }

    @Test
    void wrongTypeList() {
        assertStopped(h.run("gantryDeploy(manifests: 'k8s/', steps: [10: 20])"),
            "gantryDeploy: option 'steps' must be a List or a String, got a Map")
    }

    @Test
    void wrongTypeListItem() {
        assertStopped(h.run("gantryDeploy(manifests: ['k8s/', [a: 1]])"),
            "gantryDeploy: option 'manifests' must be a List of Strings or numbers, but one item is a Map")
    }

    @Test
    void wrongTypeNumber() {
        assertStopped(h.run("gantryPush(image: 'app:1', to: 'registry.example.com/app:1', retries: '3')"),
            "gantryPush: option 'retries' must be a whole number, got a String")
    }

    @Test
    void wrongTypeMap() {
        assertStopped(h.run("gantryBuild(image: 'registry.example.com/app', buildArg: ['NOEQUALS'])"),
            "gantryBuild: option 'buildArg' must be a Map or a List of 'KEY=value' Strings")
    }

    @Test
    void wrongTypeDoesNotEchoTheValue() {
        RunResult r = h.run("gantryPush(image: 'app:1', to: 'r/app:1', registryCredentialsId: ['s3cr3t-value'])")
        assertStopped(r, "gantryPush: option 'registryCredentialsId' must be a String, got a List")
        assertFalse(r.log.contains('s3cr3t-value'))
    }

    @Test
    void missingRequired() {
        assertStopped(h.run('gantryScan()'), "gantryScan: missing required option 'image'")
    }

    @Test
    void missingRequiredSecond() {
        assertStopped(h.run("gantryPush(image: 'app:1')"), "gantryPush: missing required option 'to'")
    }

    @Test
    void emptyCountsAsMissing() {
        assertStopped(h.run("gantryDeploy(manifests: [], image: ['app=r/app@sha256:' + ('a' * 64)])"),
            "gantryDeploy: missing required option 'manifests'")
    }

    @Test
    void aChartTakesThePlaceOfManifests() {
        assertStopped(h.run("gantryDeploy(chart: '', image: ['app=r/app@sha256:' + ('a' * 64)])"),
            "gantryDeploy: missing required option 'manifests'")
    }

    @Test
    void notNamedOptions() {
        assertStopped(h.run("gantryScan('app:1')"),
            "gantryScan: expects named options, e.g. gantryScan(image: 'registry.example.com/app:1.0'); got a String")
    }

    @Test
    void approvalNeedsTheDeploymentName() {
        assertStopped(h.run("gantryDeploy(manifests: 'k8s/', approval: true)"),
            "gantryDeploy: missing required option 'name' (the Deployment to promote or abort), needed with approval or a verification block")
    }

    @Test
    void approvalNeedsAProgressiveStrategy() {
        assertStopped(h.run("gantryDeploy(manifests: 'k8s/', name: 'web', strategy: 'rolling') { sh 'true' }"),
            "gantryDeploy: approval and verification need strategy 'canary' or 'blue-green', not 'rolling'")
    }

    @Test
    void pipelineChecksItsSections() {
        assertStopped(h.run("gantryPipeline(image: 'registry.example.com/app', scan: [foo: 1])"),
            "gantryPipeline: unknown option 'scan.foo'")
    }

    @Test
    void pipelineSectionsTakeNoImage() {
        assertStopped(h.run("gantryPipeline(image: 'registry.example.com/app', push: [image: 'other'])"),
            "gantryPipeline: unknown option 'push.image'")
    }

    @Test
    void pipelineSectionTypes() {
        assertStopped(h.run("gantryPipeline(image: 'registry.example.com/app', deploy: 'k8s/')"),
            "gantryPipeline: option 'deploy' must be a Map (or false to skip the stage), got a String")
    }

    @Test
    void pipelineBuildSectionIsAMap() {
        assertStopped(h.run("gantryPipeline(image: 'registry.example.com/app', build: ['context=.'])"),
            "gantryPipeline: option 'build' must be a Map, got a List")
    }

    @Test
    void pipelineSectionOptionTypes() {
        assertStopped(h.run("gantryPipeline(image: 'registry.example.com/app', scan: [ignoreUnfixed: 'true'])"),
            "gantryPipeline: option 'scan.ignoreUnfixed' must be true or false, got a String")
    }

    @Test
    void pipelineNeedsAnImage() {
        assertStopped(h.run('gantryPipeline(build: [context: "."])'),
            "gantryPipeline: missing required option 'image' (the repository to build, e.g. registry.example.com/shop/web)")
    }

    @Test
    void pipelineDeploysOnlyByDigest() {
        assertStopped(h.run("gantryPipeline(image: 'registry.example.com/app', push: false, deploy: [manifests: 'k8s/'])"),
            "gantryPipeline: 'deploy' needs the push stage: images are deployed by digest")
    }

    @Test
    void requiredOptionsMayComeFromGantryYml() {
        new File(h.workspace, 'gantry.yml').text = 'image: app:1\n'
        h.baseEnv.FAKE_NODE_RECORD = new File(h.workspace.path + '@tmp', 'fake').path
        h.baseEnv.FAKE_NODE_STDOUT = '{"passed":true,"counts":{},"findings":[],"failing":[]}'
        RunResult r = h.run('gantryScan(node: FAKE_NODE)', [FAKE_NODE: TestSupport.FAKE_NODE.path])
        assertEquals('SUCCESS', r.result, r.log)
    }

    @Test
    void signingKeyFromTwoPlaces() {
        RunResult r = h.run("gantrySign(image: 'r.example.com/a:1', signingKeyCredentialsId: 'k', keyFile: 'cosign.key')")
        assertStopped(r, "gantrySign: give one of 'signingKeyCredentialsId', 'keyFile' and 'keyEnv'")
    }

    @Test
    void signOptionsAreSignsOnly() {
        assertStopped(h.run("gantrySign(image: 'r.example.com/a:1', publicKeyFile: 'cosign.pub')"),
            "gantrySign: unknown option 'publicKeyFile'")
    }

    @Test
    void verifyLimitsAreWholeNumbers() {
        assertStopped(h.run("gantryVerify(image: 'r.example.com/a:1', maxCritical: 'none')"),
            "gantryVerify: option 'maxCritical' must be a whole number, got a String")
    }

    @Test
    void pipelineSignSectionIsChecked() {
        assertStopped(h.run("gantryPipeline(image: 'r.example.com/a', sign: [sboms: true])"),
            "gantryPipeline: unknown option 'sign.sboms' (did you mean 'sign.sbom'?)")
    }

    @Test
    void pipelineSignsOnlyWhatItPushed() {
        assertStopped(h.run("gantryPipeline(image: 'r.example.com/a', signingKeyCredentialsId: 'k', push: false)"),
            "gantryPipeline: 'sign' needs the push stage: the pushed digest is what is signed")
    }
}
