package org.phonehome.host

import org.junit.runner.JUnitCore
import org.junit.runner.notification.Failure
import org.junit.runner.notification.RunListener
import java.io.File
import kotlin.system.exitProcess

/**
 * Runs every `*Test` class under the classes folder given first (or only those whose simple names follow)
 * with JUnit 4; ends with "N passed, N failed".
 */
fun main(args: Array<String>) {
    val root = File(args.first())
    val only = args.drop(1).toSet()
    val classes = root.walk().filter { it.isFile && it.name.endsWith("Test.class") && '$' !in it.name }
        .filter { only.isEmpty() || it.name.removeSuffix(".class") in only }
        .map { it.relativeTo(root).path.removeSuffix(".class").replace(File.separatorChar, '.') }
        .sorted().map { Class.forName(it) }.toList()
    val core = JUnitCore()
    core.addListener(object : RunListener() {
        override fun testFailure(failure: Failure) {
            System.err.println("FAILED ${failure.description.displayName}\n${failure.trace}")
        }
    })
    val result = core.run(*classes.toTypedArray())
    val failed = result.failureCount
    val skipped = result.ignoreCount + result.assumptionFailureCount
    println("${classes.size} test classes, ${result.runCount} tests run in ${result.runTime} ms")
    println("${result.runCount - failed - result.assumptionFailureCount} passed, $failed failed, $skipped skipped")
    exitProcess(if (failed == 0 && result.runCount > 0) 0 else 1)
}
