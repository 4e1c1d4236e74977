package dev.gantry.jenkins

import dev.gantry.jenkins.harness.PipelineHarness
import dev.gantry.jenkins.harness.RunResult
import groovy.json.JsonOutput
import org.junit.jupiter.api.Test

import static org.junit.jupiter.api.Assertions.assertEquals
import static org.junit.jupiter.api.Assertions.assertNotNull

/**
 * The Jenkins leg of test/integration/cross-platform.test.ts: the example's Jenkinsfile (examples/service) run
 * by the harness on a checkout that test prepared, as a multibranch job building branch GANTRY_XP_BRANCH at
 * commit GANTRY_XP_COMMIT, against the sandbox. It writes how the build ended to GANTRY_XP_RESULT; the
 * vitest test compares the reports with those of the GitHub action and the GitLab pipeline.
 *
 * Not part of the default run (pom.xml excludes it): `mvn test -Dtest=CrossPlatformTest` with those variables.
 */
class CrossPlatformTest {

    @Test
    void exampleJenkinsfileOnTheSharedCheckout() {
        String workspace = System.getenv('GANTRY_XP_WORKSPACE')
        String kubeconfig = System.getenv('KUBECONFIG')
        assertNotNull(workspace, 'GANTRY_XP_WORKSPACE: the checkout to build')
        assertNotNull(kubeconfig, 'KUBECONFIG from the sandbox')
        PipelineHarness h = TestSupport.harness(new File(workspace))
        h.credentials.registry = [type: 'usernamePassword', username: 'robot', password: 'cross-platform']
        h.credentials.kubeconfig = [type: 'file', content: new File(kubeconfig).text, fileName: 'kubeconfig']
        h.baseEnv.GANTRY_EXAMPLE_IMAGE = System.getenv('GANTRY_XP_IMAGE')
        // What a multibranch job exports for a push to a branch.
        h.baseEnv.BRANCH_NAME = System.getenv('GANTRY_XP_BRANCH')
        h.baseEnv.GIT_COMMIT = System.getenv('GANTRY_XP_COMMIT')

        RunResult r = h.runFile(new File(workspace, 'Jenkinsfile'))

        new File(System.getenv('GANTRY_XP_RESULT')).text = JsonOutput.toJson([
            result: r.result,
            stages: new ArrayList<String>(h.stages),
            reports: new File(h.artifactsDir, 'gantry-reports').path,
            log: r.log,
        ])
        assertEquals('SUCCESS', r.result, r.log)
    }
}
