package dev.gantry.jenkins.harness

import groovy.json.JsonSlurperClassic
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.customizers.ImportCustomizer
import org.codehaus.groovy.runtime.InvokerHelper

import java.nio.file.FileSystems
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.PathMatcher
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.Executors
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.ScheduledFuture
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicBoolean
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference

/**
 * A small stand-in for a Jenkins controller and agent that runs the shared library as a Jenkinsfile would:
 * vars/ become global steps, src/ is on the class path, resources/ answer libraryResource, and the pipeline
 * steps the library uses are bound with Jenkins' semantics where it matters:
 *
 * - `sh` really runs `sh -xe <script file>` (as the durable-task plugin does) in the current directory with the
 *   build environment plus withEnv/withCredentials overlays; returnStdout/returnStatus; an interrupted step
 *   (failFast, timeout) sends SIGTERM to the process tree, then SIGKILL after a grace period.
 * - `withCredentials` reads a credentials store (usernamePassword, secret file, secret text) and does NOT mask
 *   anything, so a test that finds no credential in the captured output proves the library never printed it.
 * - `parallel` runs branches on threads (failFast interrupts the others); `timeout`, `sleep`, `input` are
 *   interruptible; `input` asks the test's handler.
 * - `archiveArtifacts` copies matches into an artifacts directory; `junit` parses the XML and marks the build
 *   UNSTABLE on failures; `error` stops the build (FAILURE), `unstable` marks it.
 *
 * Not emulated: CPS (every method runs as plain Groovy; the library keeps pure computation in @NonCPS methods
 * and is compiled here with Groovy 2.4.21, the version Jenkins runs), the script-security sandbox, agents.
 */
class PipelineHarness {

    final File library
    final File workspace
    final File artifactsDir
    /** The agent's environment (the controller's global variables and the node's, as Jenkins merges them). */
    final Map<String, String> baseEnv = new LinkedHashMap<>()
    /** Variables set with `env.X = …` during the build. */
    final Map<String, String> buildEnv = new ConcurrentHashMap<>()
    /** id → [type: 'usernamePassword', username:, password:] | [type: 'file', content:, fileName:] | [type: 'string', secret:] */
    final Map<String, Map> credentials = new LinkedHashMap<>()
    /** Answers `input`: receives the step's parameters, returns what Jenkins would, or throws (the Abort button). */
    Closure inputHandler = { Map params -> throw new FlowInterrupted("input '${params.message}': nobody answers in this test") }

    final List<String> logLines = Collections.synchronizedList(new ArrayList<String>())
    /** Every sh call: script, env, status, stdout (when returned), label, cwd. */
    final List<Map> shCalls = Collections.synchronizedList(new ArrayList<Map>())
    final List<Map> archived = Collections.synchronizedList(new ArrayList<Map>())
    final List<Map> junitReports = Collections.synchronizedList(new ArrayList<Map>())
    final List<Map> inputs = Collections.synchronizedList(new ArrayList<Map>())
    final List<Map> writtenFiles = Collections.synchronizedList(new ArrayList<Map>())
    final List<String> stages = Collections.synchronizedList(new ArrayList<String>())
    final List<String> errors = Collections.synchronizedList(new ArrayList<String>())
    final List<String> unstableMessages = Collections.synchronizedList(new ArrayList<String>())
    final List<Map> credentialBindings = Collections.synchronizedList(new ArrayList<Map>())
    final BuildInfo currentBuild = new BuildInfo()
    final Binding binding = new Binding()
    /** Seconds an interrupted sh gets between SIGTERM and SIGKILL (a cancelled `gantry deploy` rolls back then). */
    int killGraceSeconds = 60

    private final GroovyClassLoader loader
    private final ThreadLocal<Context> context = new ThreadLocal<Context>()
    private final AtomicInteger counter = new AtomicInteger()
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor()

    PipelineHarness(File library, File workspace) {
        this.library = library.canonicalFile
        this.workspace = workspace.canonicalFile
        this.workspace.mkdirs()
        this.artifactsDir = new File(this.workspace.path + '@artifacts')
        CompilerConfiguration config = new CompilerConfiguration()
        ImportCustomizer imports = new ImportCustomizer()
        imports.addImports('org.jenkinsci.plugins.workflow.libs.Library')
        config.addCompilationCustomizers(imports)
        loader = new GroovyClassLoader(PipelineHarness.classLoader, config)
        loader.addClasspath(new File(this.library, 'src').path)
        baseEnv.WORKSPACE = this.workspace.path
        registerSteps()
        loadVars()
    }

    // ---------------------------------------------------------------- running a build

    /** Runs a Jenkinsfile. */
    RunResult runFile(File jenkinsfile, Map<String, Object> vars = [:]) {
        return run(jenkinsfile.getText('UTF-8'), vars, jenkinsfile.name)
    }

    /** Runs pipeline code (a Jenkinsfile's text) with extra binding variables; returns how the build ended. */
    RunResult run(String code, Map<String, Object> vars = [:], String name = 'Jenkinsfile') {
        vars.each { k, v -> binding.setVariable(k, v) }
        context.set(new Context(workspace, [:], null))
        Script script = (Script) loader.parseClass(new GroovyCodeSource(code, name.replaceAll('[^A-Za-z0-9_]', '_'), '/groovy/shell')).newInstance()
        script.binding = binding
        RunResult result = new RunResult()
        try {
            result.value = script.run()
        } catch (PipelineError e) {
            result.error = e
            log("ERROR: ${e.message}")
            currentBuild.worsen('FAILURE')
        } catch (FlowInterrupted e) {
            result.error = e
            log("Aborted: ${e.message}")
            currentBuild.worsen('ABORTED')
        } catch (Throwable e) {
            result.error = e
            log("ERROR: ${e.class.name}: ${e.message}")
            currentBuild.worsen('FAILURE')
        } finally {
            context.remove()
        }
        result.result = currentBuild.result ?: 'SUCCESS'
        result.log = logLines.join('\n')
        return result
    }

    /** Everything the build showed or handed back: log lines, sh scripts and returned output, input prompts. */
    String capturedOutput() {
        List<String> all = new ArrayList<>(logLines)
        synchronized (shCalls) {
            shCalls.each { all << it.script.toString(); all << (it.stdout ?: '').toString() }
        }
        synchronized (inputs) {
            inputs.each { all << it.toString() }
        }
        all.addAll(errors)
        return all.join('\n')
    }

    // ---------------------------------------------------------------- library loading

    /** A class of the library's src/, compiled as Jenkins compiles it (for tests of its tables). */
    Class libraryClass(String name) {
        return loader.loadClass(name)
    }

    private void loadVars() {
        File vars = new File(library, 'vars')
        vars.listFiles().findAll { it.name.endsWith('.groovy') }.sort { it.name }.each { File file ->
            String name = file.name - '.groovy'
            Script script = (Script) loader.parseClass(file).newInstance()
            script.binding = binding
            binding.setVariable(name, new StepClosure(this, { List args ->
                InvokerHelper.invokeMethod(script, 'call', args as Object[])
            }))
        }
    }

    private void step(String name, Closure impl) {
        binding.setVariable(name, new StepClosure(this, impl))
    }

    private void registerSteps() {
        binding.setVariable('env', new EnvProxy(this))
        binding.setVariable('currentBuild', currentBuild)
        binding.setVariable('params', [:])
        binding.setVariable('scm', [type: 'GitSCM'])

        step('echo') { List a -> log(String.valueOf(a[0])); null }
        step('error') { List a ->
            String message = String.valueOf(a[0])
            errors << message
            throw new PipelineError(message)
        }
        step('unstable') { List a ->
            String message = a[0] instanceof Map ? String.valueOf(((Map) a[0]).message) : String.valueOf(a[0])
            unstableMessages << message
            log("WARNING: ${message}")
            currentBuild.worsen('UNSTABLE')
            null
        }
        step('sh') { List a -> sh(a[0]) }
        step('withEnv') { List a -> withOverlay(parseEnvList((List) a[0]), (Closure) a[1]) }
        step('withCredentials') { List a -> withCredentials((List) a[0], (Closure) a[1]) }
        step('usernamePassword') { List a -> [kind: 'usernamePassword'] + (Map) a[0] }
        step('file') { List a -> [kind: 'file'] + (Map) a[0] }
        step('string') { List a -> [kind: 'string'] + (Map) a[0] }
        step('choice') { List a -> [kind: 'choice'] + (Map) a[0] }
        step('readJSON') { List a -> readJSON((Map) a[0]) }
        step('writeFile') { List a ->
            Map m = (Map) a[0]
            File f = resolve(String.valueOf(m.file))
            f.parentFile.mkdirs()
            f.setText(String.valueOf(m.text), (m.encoding ?: 'UTF-8').toString())
            writtenFiles << [file: m.file.toString(), length: f.length()]
            null
        }
        step('readFile') { List a ->
            Map m = a[0] instanceof Map ? (Map) a[0] : [file: a[0]]
            File f = resolve(String.valueOf(m.file))
            if (!f.exists()) {
                throw new PipelineError("No such file: ${m.file}")
            }
            f.getText((m.encoding ?: 'UTF-8').toString())
        }
        step('fileExists') { List a ->
            Object p = a[0] instanceof Map ? ((Map) a[0]).file : a[0]
            resolve(String.valueOf(p)).exists()
        }
        step('libraryResource') { List a ->
            Map m = a[0] instanceof Map ? (Map) a[0] : [resource: a[0]]
            File f = new File(library, "resources/${m.resource}")
            if (!f.file) {
                throw new PipelineError("No such library resource ${m.resource} could be found.")
            }
            f.getText((m.encoding ?: 'UTF-8').toString())
        }
        step('archiveArtifacts') { List a -> archiveArtifacts(a[0] instanceof Map ? (Map) a[0] : [artifacts: a[0]]) }
        step('junit') { List a -> junit(a[0] instanceof Map ? (Map) a[0] : [testResults: a[0]]) }
        step('input') { List a -> input(a[0] instanceof Map ? (Map) a[0] : [message: a[0]]) }
        step('parallel') { List a -> parallel((Map) a[0]) }
        step('timeout') { List a -> timeout(a[0] instanceof Map ? (Map) a[0] : [time: a[0]], (Closure) a[1]) }
        step('sleep') { List a ->
            Map m = a[0] instanceof Map ? (Map) a[0] : [time: a[0]]
            interruptibly { Thread.sleep(toMillis(m)) }
            null
        }
        step('stage') { List a ->
            String name = String.valueOf(a[0])
            stages << name
            log("[Pipeline] stage (${name})")
            ((Closure) a[1]).call()
        }
        step('node') { List a -> ((Closure) a[-1]).call() }
        step('dir') { List a ->
            Context c = context.get()
            File d = resolve(String.valueOf(a[0]))
            d.mkdirs()
            context.set(new Context(d, c.overlay, c.branch))
            try {
                ((Closure) a[1]).call()
            } finally {
                context.set(c)
            }
        }
        step('pwd') { List a -> context.get().cwd.path }
        step('isUnix') { List a -> true }
        step('checkout') { List a ->
            log('[Pipeline] checkout (the test workspace is the checkout)')
            [GIT_COMMIT: git('rev-parse', 'HEAD'), GIT_BRANCH: git('rev-parse', '--abbrev-ref', 'HEAD')]
        }
    }

    // ---------------------------------------------------------------- steps

    private Object sh(Object arg) {
        Map a = arg instanceof Map ? (Map) arg : [script: arg]
        String text = String.valueOf(a.script)
        boolean returnStdout = a.returnStdout == true
        boolean returnStatus = a.returnStatus == true
        if (returnStdout && returnStatus) {
            throw new PipelineError('You may not use both returnStdout and returnStatus.')
        }
        Context ctx = context.get()
        File tmp = new File(workspace.path + '@tmp')
        tmp.mkdirs()
        File file = new File(tmp, "script-${counter.incrementAndGet()}.sh")
        file.setText(text, 'UTF-8')
        Map<String, String> env = effectiveEnv()
        log("[Pipeline] sh${a.label ? " (${a.label})" : ''}")
        ProcessBuilder builder = new ProcessBuilder('sh', '-xe', file.path).directory(ctx.cwd)
        builder.environment().clear()
        builder.environment().putAll(env)
        Process process = builder.start()
        process.outputStream.close()
        StringBuffer stdout = new StringBuffer()
        Thread out = pump(process.inputStream, returnStdout ? stdout : null, ctx)
        Thread err = pump(process.errorStream, null, ctx)
        int status
        try {
            status = process.waitFor()
        } catch (InterruptedException ignored) {
            terminate(process)
            out.join(5000)
            err.join(5000)
            shCalls << [script: text, env: env, status: -1, stdout: stdout.toString(), label: a.label, cwd: ctx.cwd.path]
            throw new FlowInterrupted('sh was interrupted: its processes were sent SIGTERM')
        }
        out.join()
        err.join()
        shCalls << [script: text, env: env, status: status, stdout: stdout.toString(), label: a.label, cwd: ctx.cwd.path]
        file.delete()
        if (returnStatus) {
            return status
        }
        if (status != 0) {
            throw new PipelineError("script returned exit code ${status}")
        }
        return returnStdout ? stdout.toString() : null
    }

    private Thread pump(InputStream stream, StringBuffer into, Context ctx) {
        Thread t = new Thread({
            context.set(ctx)
            stream.newReader('UTF-8').eachLine { String line ->
                if (into != null) {
                    into.append(line).append('\n')
                } else {
                    log(line)
                }
            }
        } as Runnable)
        t.daemon = true
        t.start()
        return t
    }

    private void terminate(Process process) {
        List<ProcessHandle> tree = process.toHandle().descendants().collect { it }
        process.destroy()
        tree.each { it.destroy() }
        if (!process.waitFor(killGraceSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly()
        }
        tree.each { if (it.alive) { it.destroyForcibly() } }
    }

    private Object withCredentials(List bindings, Closure body) {
        Map<String, String> overlay = [:]
        List<File> secretFiles = []
        try {
            for (Object raw : bindings) {
                Map b = (Map) raw
                credentialBindings << b
                Map c = credentials[String.valueOf(b.credentialsId)]
                if (c == null) {
                    throw new PipelineError("Could not find credentials entry with ID '${b.credentialsId}'")
                }
                if (c.type != b.kind) {
                    throw new PipelineError("Credentials '${b.credentialsId}' is of type ${c.type}, where ${b.kind} was expected")
                }
                switch (b.kind) {
                    case 'usernamePassword':
                        overlay[String.valueOf(b.usernameVariable)] = String.valueOf(c.username)
                        overlay[String.valueOf(b.passwordVariable)] = String.valueOf(c.password)
                        break
                    case 'file':
                        File dir = new File(workspace.path + "@tmp/secretFiles/${UUID.randomUUID()}")
                        dir.mkdirs()
                        File f = new File(dir, String.valueOf(c.fileName ?: 'secret'))
                        f.setText(String.valueOf(c.content), 'UTF-8')
                        secretFiles << dir
                        overlay[String.valueOf(b.variable)] = f.path
                        break
                    case 'string':
                        overlay[String.valueOf(b.variable)] = String.valueOf(c.secret)
                        break
                    default:
                        throw new PipelineError("unsupported credentials binding ${b.kind}")
                }
            }
            return withOverlay(overlay, body)
        } finally {
            secretFiles.each { it.deleteDir() }
        }
    }

    private Object withOverlay(Map<String, String> vars, Closure body) {
        Context c = context.get()
        Map<String, String> overlay = new LinkedHashMap<>(c.overlay)
        overlay.putAll(vars)
        context.set(new Context(c.cwd, overlay, c.branch))
        try {
            return body.call()
        } finally {
            context.set(c)
        }
    }

    private static Map<String, String> parseEnvList(List list) {
        Map<String, String> out = [:]
        list.each { Object item ->
            String s = String.valueOf(item)
            int eq = s.indexOf('=')
            if (eq <= 0) {
                throw new PipelineError("withEnv: expected KEY=value, got ${s}")
            }
            out[s.substring(0, eq)] = s.substring(eq + 1)
        }
        return out
    }

    Map<String, String> effectiveEnv() {
        Map<String, String> env = new LinkedHashMap<>(baseEnv)
        env.putAll(buildEnv)
        Context c = context.get()
        if (c != null) {
            env.putAll(c.overlay)
        }
        return env
    }

    private Object readJSON(Map m) {
        String text
        if (m.text != null) {
            text = String.valueOf(m.text)
        } else if (m.file != null) {
            text = resolve(String.valueOf(m.file)).getText('UTF-8')
        } else {
            throw new PipelineError('readJSON: one of text or file is required')
        }
        return new JsonSlurperClassic().parseText(text)
    }

    private Object archiveArtifacts(Map m) {
        File base = context.get().cwd
        List<String> patterns = String.valueOf(m.artifacts).split(',')*.trim().findAll { it }
        List<String> matched = []
        patterns.each { String pattern -> matched.addAll(matchFiles(base, pattern)) }
        if (!matched && m.allowEmptyArchive != true) {
            throw new PipelineError("No artifacts found that match the file pattern \"${m.artifacts}\". Configuration error?")
        }
        matched.unique().each { String rel ->
            File target = new File(artifactsDir, rel)
            target.parentFile.mkdirs()
            Files.copy(new File(base, rel).toPath(), target.toPath(), java.nio.file.StandardCopyOption.REPLACE_EXISTING)
        }
        archived << [artifacts: m.artifacts, files: matched.unique()]
        log("Archiving artifacts: ${matched.unique().join(', ')}")
        return null
    }

    /** Files under `base` whose relative path matches an Ant-like glob (`**` crosses directories). */
    private static List<String> matchFiles(File base, String pattern) {
        PathMatcher matcher = FileSystems.default.getPathMatcher("glob:${pattern}")
        Path root = base.toPath()
        List<String> out = []
        base.eachFileRecurse(groovy.io.FileType.FILES) { File f ->
            Path rel = root.relativize(f.toPath())
            if (matcher.matches(rel)) {
                out << rel.toString()
            }
        }
        return out.sort()
    }

    private Object junit(Map m) {
        File base = context.get().cwd
        List<File> files = []
        String.valueOf(m.testResults).split(',')*.trim().findAll { it }.each { String pattern ->
            matchFiles(base, pattern).each { files << new File(base, it) }
        }
        if (!files && m.allowEmptyResults != true) {
            throw new PipelineError("No test report files were found. Configuration error?")
        }
        int total = 0
        int failed = 0
        int skipped = 0
        files.each { File f ->
            def xml = new XmlSlurper().parse(f)
            def cases = xml.'**'.findAll { it.name() == 'testcase' }
            int fileFailed = cases.count { c -> c.failure.size() > 0 || c.error.size() > 0 } as int
            int fileSkipped = cases.count { c -> c.skipped.size() > 0 } as int
            total += cases.size()
            failed += fileFailed
            skipped += fileSkipped
            junitReports << [file: base.toPath().relativize(f.toPath()).toString(), tests: cases.size(), failures: fileFailed,
                             skipped: fileSkipped]
        }
        log("Recording test results: ${total} tests, ${failed} failures")
        if (failed > 0) {
            currentBuild.worsen('UNSTABLE')
        }
        return [totalCount: total, failCount: failed, skipCount: skipped, passCount: total - failed - skipped]
    }

    private Object input(Map m) {
        inputs << new LinkedHashMap(m)
        log("Input requested: ${m.message}")
        try {
            Object answer = inputHandler.call(m)
            log("Approved: ${answer}")
            return answer
        } catch (InterruptedException ignored) {
            throw new FlowInterrupted("input '${m.id ?: m.message}' was interrupted")
        }
    }

    private Object parallel(Map branches) {
        boolean failFast = branches.failFast == true
        Map<String, Closure> bodies = (Map<String, Closure>) branches.findAll { k, v -> k != 'failFast' }
        Context parent = context.get()
        AtomicReference<Throwable> first = new AtomicReference<>()
        List<Thread> threads = Collections.synchronizedList(new ArrayList<Thread>())
        bodies.each { String name, Closure body ->
            Thread t = new Thread({
                context.set(new Context(parent.cwd, parent.overlay, name))
                try {
                    body.call()
                } catch (Throwable e) {
                    boolean isFirst = first.compareAndSet(null, e)
                    log("Failed in branch ${name}: ${e.message}")
                    if (failFast && isFirst) {
                        synchronized (threads) {
                            threads.each { if (it != Thread.currentThread()) { it.interrupt() } }
                        }
                    }
                }
            } as Runnable, "branch-${name}")
            threads << t
        }
        synchronized (threads) {
            threads.each { it.start() }
        }
        try {
            new ArrayList<Thread>(threads).each { it.join() }
        } catch (InterruptedException ignored) {
            threads.each { it.interrupt() }
            threads.each { it.join() }
            throw new FlowInterrupted('parallel was interrupted')
        }
        if (first.get() != null) {
            throw first.get()
        }
        return null
    }

    private Object timeout(Map m, Closure body) {
        Thread current = Thread.currentThread()
        AtomicBoolean fired = new AtomicBoolean(false)
        ScheduledFuture<?> timer = timers.schedule({
            fired.set(true)
            current.interrupt()
        } as Runnable, toMillis(m), TimeUnit.MILLISECONDS)
        try {
            return body.call()
        } catch (FlowInterrupted e) {
            if (fired.get()) {
                throw new FlowInterrupted("Timeout has been exceeded (${m.time} ${m.unit ?: 'MINUTES'})")
            }
            throw e
        } finally {
            timer.cancel(false)
            if (fired.get()) {
                Thread.interrupted()
            }
        }
    }

    private static long toMillis(Map m) {
        long time = (m.time as long)
        String unit = (m.unit ?: 'SECONDS').toString()
        return TimeUnit.valueOf(unit).toMillis(time)
    }

    private static void interruptibly(Closure body) {
        try {
            body.call()
        } catch (InterruptedException ignored) {
            throw new FlowInterrupted('interrupted')
        }
    }

    // ---------------------------------------------------------------- helpers

    File resolve(String path) {
        File f = new File(path)
        return f.absolute ? f : new File(context.get()?.cwd ?: workspace, path)
    }

    void log(String line) {
        Context c = context.get()
        String text = c?.branch ? "[${c.branch}] ${line}" : line
        logLines << text
        System.out.println(text)
    }

    String git(String... args) {
        Process p = new ProcessBuilder(['git'] + (args as List)).directory(workspace).redirectErrorStream(true).start()
        String out = p.inputStream.getText('UTF-8').trim()
        p.waitFor()
        return out
    }

    static class Context {
        final File cwd
        final Map<String, String> overlay
        final String branch

        Context(File cwd, Map<String, String> overlay, String branch) {
            this.cwd = cwd
            this.overlay = Collections.unmodifiableMap(new LinkedHashMap<String, String>(overlay))
            this.branch = branch
        }
    }
}
