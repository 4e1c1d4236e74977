package dev.gantry.jenkins.harness

/** What `error` throws (hudson.AbortException on a controller): the build fails with its message. */
class PipelineError extends RuntimeException {
    PipelineError(String message) {
        super(message)
    }
}

/** An interrupted step: failFast, timeout, an aborted input (FlowInterruptedException on a controller). */
class FlowInterrupted extends RuntimeException {
    FlowInterrupted(String message) {
        super(message)
    }
}

/** A pipeline step bound in the script binding, so that `sh(...)` in any script of the build finds it. */
class StepClosure extends Closure {
    private final Closure impl

    StepClosure(Object owner, Closure impl) {
        super(owner)
        this.impl = impl
    }

    @Override
    Object call() {
        return impl.call([])
    }

    @Override
    Object call(Object arg) {
        return impl.call([arg])
    }

    @Override
    Object call(Object... args) {
        return impl.call(args as List)
    }
}

/** `env`: reads the build environment as the current step sees it (withEnv included); `env.X = v` sets it. */
class EnvProxy extends GroovyObjectSupport {
    private final PipelineHarness harness

    EnvProxy(PipelineHarness harness) {
        this.harness = harness
    }

    @Override
    Object getProperty(String name) {
        return harness.effectiveEnv()[name]
    }

    @Override
    void setProperty(String name, Object value) {
        if (value == null) {
            harness.buildEnv.remove(name)
        } else {
            harness.buildEnv[name] = value.toString()
        }
    }

    Object getAt(String name) {
        return getProperty(name)
    }

    Map<String, String> getEnvironment() {
        return harness.effectiveEnv()
    }
}

/** `currentBuild`: the result only gets worse, as on a controller. */
class BuildInfo {
    private static final List<String> ORDER = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED']
    volatile String result = null
    int number = 7
    String displayName = '#7'
    String description

    synchronized void worsen(String r) {
        if (result == null || ORDER.indexOf(r) > ORDER.indexOf(result)) {
            result = r
        }
    }

    String getCurrentResult() {
        return result ?: 'SUCCESS'
    }

    void setResult(String r) {
        worsen(r)
    }
}

/** How a build ended. */
class RunResult {
    String result
    Object value
    Throwable error
    String log

    String getErrorMessage() {
        return error?.message
    }
}
