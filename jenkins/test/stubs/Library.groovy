package org.jenkinsci.plugins.workflow.libs

import java.lang.annotation.Retention
import java.lang.annotation.RetentionPolicy

/** Stand-in for `@Library('gantry') _` at the top of a Jenkinsfile; the harness loads the library itself. */
@Retention(RetentionPolicy.SOURCE)
@interface Library {
    String[] value()
}
