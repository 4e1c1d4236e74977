import com.cloudbees.groovy.cps.NonCPS
import dev.gantry.jenkins.Gantry
import dev.gantry.jenkins.Options

/**
 * gantryScan: scans an image with the bundled `gantry scan` (trivy or grype) and gates on severity.
 *
 *   def scan = gantryScan(image: built.refs[0], severityThreshold: 'high', ignoreUnfixed: true)
 *
 * Writes JUnit, SARIF and Markdown reports under reportDir (default gantry-reports/), archives them with the
 * JSON result and publishes the JUnit report. A finding at or above the threshold stops the build (error), or
 * with failOnGate: false marks it unstable and returns the result (passed: false).
 */
def call(Map cfg = [:]) {
    Gantry gantry = new Gantry(this, 'gantryScan')
    gantry.validate('scan', cfg, ['image'])
    Map effective = new LinkedHashMap(cfg)
    String dir = Gantry.reportDir(cfg)
    effective.junit = cfg.junit ?: "${dir}/scan-junit.xml".toString()
    effective.sarif = cfg.sarif ?: "${dir}/scan.sarif".toString()
    effective.markdown = cfg.markdown ?: "${dir}/scan.md".toString()
    Map outcome = gantry.run('scan', effective)
    gantry.publish(cfg, [outcome.resultFile, effective.junit, effective.sarif, effective.markdown, cfg.gitlabReport],
        effective.junit.toString())
    return gantry.finish(outcome, cfg, gateMessage((Map) outcome.result))
}

def call(Object other) {
    error("gantryScan: expects named options, e.g. gantryScan(image: 'registry.example.com/app:1.0'); got ${Options.typeName(other)}")
}

@NonCPS
private static String gateMessage(Map result) {
    if (result == null) {
        return null
    }
    Map counts = (Map) (result.counts ?: [:])
    int failing = result.failing instanceof List ? ((List) result.failing).size() : 0
    List<String> ids = result.failing instanceof List ? ((List) result.failing).take(3)*.id : []
    String more = failing > ids.size() ? ', …' : ''
    return "gate failed: ${failing} finding(s) at or above ${result.threshold} in ${result.image}" +
        " (critical ${counts.critical ?: 0}, high ${counts.high ?: 0}, medium ${counts.medium ?: 0}," +
        " low ${counts.low ?: 0})${ids ? ': ' + ids.join(', ') + more : ''}"
}
