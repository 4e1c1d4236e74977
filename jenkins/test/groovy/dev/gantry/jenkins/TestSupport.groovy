package dev.gantry.jenkins

import dev.gantry.jenkins.harness.PipelineHarness

import java.nio.file.Files

/** Shared set-up: the library under test, fresh workspaces, a Jenkins-like agent environment. */
class TestSupport {

    static final File LIBRARY = new File(System.getProperty('gantry.library') ?: '.').canonicalFile
    static final File REPO = LIBRARY.parentFile
    static final File FAKE_NODE = new File(LIBRARY, 'test/fixtures/fake-node')

    /** Sandbox variables the agent gets (KUBECONFIG is not among them: it comes from a credential). */
    static final List<String> SANDBOX_VARS = ['REGISTRY', 'CONTAINERS_STORAGE_CONF', 'BUILDAH_ISOLATION', 'PROMETHEUS_URL',
                                              'SIMULATOR_URL', 'TRIVY_CACHE_DIR', 'TRIVY_SKIP_DB_UPDATE',
                                              'TRIVY_SKIP_JAVA_DB_UPDATE', 'TRIVY_SKIP_CHECK_UPDATE', 'TRIVY_OFFLINE_SCAN',
                                              'TRIVY_NO_PROGRESS', 'TRIVY_DISABLE_VEX_NOTICE']

    private static final List<File> TEMP_DIRS = Collections.synchronizedList(new ArrayList<File>())

    static {
        // Workspaces hold a copy of the 3 MB CLI bundle each: remove them (and their @tmp/@artifacts) at exit.
        Runtime.runtime.addShutdownHook(new Thread({
            new ArrayList<File>(TEMP_DIRS).each { File dir ->
                [dir, new File(dir.path + '@tmp'), new File(dir.path + '@artifacts')].each { it.deleteDir() }
            }
        } as Runnable))
    }

    static File tempDir(String prefix) {
        File dir = Files.createTempDirectory(prefix).toFile()
        TEMP_DIRS << dir
        return dir
    }

    /** A harness whose workspace is a fresh directory, with the environment a Jenkins agent would give. */
    static PipelineHarness harness(File workspace = tempDir('gantry-jk-ws-')) {
        PipelineHarness h = new PipelineHarness(LIBRARY, workspace)
        Map<String, String> sys = System.getenv()
        ['PATH', 'HOME', 'LANG', 'TMPDIR', 'USER'].each { if (sys[it]) { h.baseEnv[it] = sys[it] } }
        SANDBOX_VARS.each { if (sys[it]) { h.baseEnv[it] = sys[it] } }
        h.baseEnv.putAll([
            JENKINS_URL: 'http://127.0.0.1:8080/',
            JOB_NAME: 'shop/web',
            BUILD_NUMBER: '7',
            BUILD_TAG: 'jenkins-shop-web-7',
            BUILD_URL: 'http://127.0.0.1:8080/job/shop/job/web/7/',
            EXECUTOR_NUMBER: '0',
            NODE_NAME: 'built-in',
        ])
        return h
    }

    /** Makes `dir` a git checkout with one commit, as `checkout scm` leaves a workspace. */
    static void gitInit(File dir) {
        run(dir, 'git', 'init', '-q', '-b', 'main')
        run(dir, 'git', '-c', 'user.name=ci', '-c', 'user.email=ci@example.com', 'add', '-A')
        run(dir, 'git', '-c', 'user.name=ci', '-c', 'user.email=ci@example.com', 'commit', '-q', '-m', 'test', '--allow-empty')
    }

    /** Runs a command, returns stdout; throws with its output when it fails. */
    static String run(File dir, String... command) {
        return runEnv(dir, [:], command)
    }

    static String runEnv(File dir, Map<String, String> env, String... command) {
        ProcessBuilder pb = new ProcessBuilder(command as List).directory(dir).redirectErrorStream(false)
        pb.environment().putAll(env)
        Process p = pb.start()
        StringBuffer err = new StringBuffer()
        Thread t = Thread.start { err.append(p.errorStream.getText('UTF-8')) }
        String out = p.inputStream.getText('UTF-8')
        int rc = p.waitFor()
        t.join()
        if (rc != 0) {
            throw new IllegalStateException("${command.join(' ')} exited ${rc}: ${err}${out}")
        }
        return out
    }

    /** Reads a NUL-separated argv record written by the fake node. */
    static List<String> readArgv(File record) {
        String text = new File(record.path + '.argv').getText('UTF-8')
        List<String> out = text.split('\u0000', -1) as List
        if (out && out[-1] == '') {
            out.remove(out.size() - 1)
        }
        return out
    }

    static Map<String, String> readEnv(File record) {
        Map<String, String> env = [:]
        new File(record.path + '.env').getText('UTF-8').split('\u0000').each { String entry ->
            int eq = entry.indexOf('=')
            if (eq > 0) {
                env[entry.substring(0, eq)] = entry.substring(eq + 1)
            }
        }
        return env
    }

    static boolean sandboxUp() {
        return System.getenv('REGISTRY') && System.getenv('KUBECONFIG') && System.getenv('KUBECTL')
    }
}
