package dev.gantry.jenkins

import dev.gantry.jenkins.harness.PipelineHarness
import dev.gantry.jenkins.harness.RunResult
import org.junit.jupiter.api.Test

import static org.junit.jupiter.api.Assertions.assertEquals
import static org.junit.jupiter.api.Assertions.assertFalse
import static org.junit.jupiter.api.Assertions.assertTrue

/** The library against the real CLI bundle in resources/, without the sandbox (Node.js 22+ on PATH). */
class CliContractTest {

    static final File CLI = new File(TestSupport.LIBRARY, 'resources/dev/gantry/cli.js')

    /** Every flag of every command has a step option, and every step option is a flag of its command. */
    @Test
    void optionTableMatchesTheCliFlags() {
        Map<String, Map<String, List>> cli = (Map) TestSupport.harness().libraryClass('dev.gantry.jenkins.Options').CLI
        cli.each { String command, Map<String, List> table ->
            String help = TestSupport.run(TestSupport.REPO, 'node', CLI.path, command, '--help')
            Set<String> flags = help.readLines().collect { (it =~ /^\s+(?:-\w, )?--([a-z][a-z0-9-]*)/) }
                .findAll { it.find() }.collect { it.group(1) }.findAll { it != 'help' } as Set
            Set<String> mapped = table.values().collect { it[0] } as Set
            assertEquals(flags, mapped, "gantry ${command}: CLI flags vs jenkins/src/dev/gantry/jenkins/Options.groovy")
            table.each { String key, List spec ->
                String camel = spec[0].toString().replaceAll(/-([a-z0-9])/) { String all, String c -> c.toUpperCase() }
                assertEquals(camel, key, "the option for --${spec[0]} is its camelCase")
            }
        }
    }

    @Test
    void invalidInputFromTheCliBecomesOneLineNamingTheOption() {
        PipelineHarness h = TestSupport.harness()
        RunResult r = h.run("gantryScan(image: 'app:1', severityThreshold: 'severe')")
        assertEquals('FAILURE', r.result, r.log)
        assertEquals('gantryScan: severityThreshold (--severity-threshold): expected one of critical|high|medium|low|unknown|none, got "severe"',
            r.errorMessage)
        assertEquals(['.gantry/cli.mjs'], h.writtenFiles*.file)
        assertTrue(h.shCalls.find { it.label == 'gantry scan' }.status == 2)
    }

    @Test
    void theBundleRunsFromTheWorkspaceAsAnEsModule() {
        PipelineHarness h = TestSupport.harness()
        RunResult r = h.run("gantryDeploy(manifests: 'nowhere/')")
        assertEquals('FAILURE', r.result, r.log)
        assertEquals('gantryDeploy: manifests (--manifests): no such file or directory "nowhere/"', r.errorMessage)
        assertFalse(r.log.contains('SyntaxError'))
    }
}
