package org.phonehome.history

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.phonehome.core.HistoryException
import org.phonehome.core.HistoryReaderInterface
import org.phonehome.core.TimeSpan
import java.lang.reflect.Proxy
import java.util.concurrent.Executor

class HistoryQueriesTest {
    /** An executor that runs nothing until drained: shows what happens on which thread, and when. */
    private class Queue : Executor {
        val tasks = ArrayDeque<Runnable>()
        override fun execute(task: Runnable) { tasks.addLast(task) }
        fun drain() { while (tasks.isNotEmpty()) tasks.removeFirst().run() }
    }

    /** A reader (closeable, as the generated one) whose timeSpan() answers [span]; closing it is recorded. */
    private class FakeReader(private val span: () -> TimeSpan?) {
        var closed = false
        val proxy = Proxy.newProxyInstance(javaClass.classLoader, arrayOf(HistoryReaderInterface::class.java, AutoCloseable::class.java)) { _, method, _ ->
            when (method.name) {
                "timeSpan" -> span()
                "close" -> { closed = true; null }
                "toString" -> "FakeReader"
                "hashCode" -> System.identityHashCode(this)
                else -> error("unexpected ${method.name}")
            }
        } as HistoryReaderInterface
    }

    private val background = Queue()
    private val ui = Queue()
    private val results = mutableListOf<Result<TimeSpan?>>()

    @Test
    fun `queries run in the background, answers arrive on the delivery thread, the reader is opened once`() {
        var opened = 0
        val reader = FakeReader { TimeSpan(1, 2) }
        val queries = HistoryQueries("history.sqlite", { opened++; reader.proxy }, background, ui)
        repeat(2) { queries.load({ it.timeSpan() }) { result -> results += result } }
        assertEquals("nothing runs on the caller's thread", listOf(0, 0), listOf(opened, results.size))
        background.drain()
        assertTrue("answers wait for the delivery thread", results.isEmpty())
        ui.drain()
        assertEquals(listOf(TimeSpan(1, 2), TimeSpan(1, 2)), results.map { it.getOrThrow() })
        assertEquals(1, opened)
    }

    @Test
    fun `a missing history is reported, and opened once it exists`() {
        var exists = false
        val queries = HistoryQueries("history.sqlite", {
            if (!exists) throw HistoryException.Missing("/data/history.sqlite")
            FakeReader { null }.proxy
        }, background, ui)
        queries.load({ it.timeSpan() }) { results += it }
        background.drain(); ui.drain()
        assertTrue(results.single().exceptionOrNull() is HistoryException.Missing)
        exists = true
        queries.load({ it.timeSpan() }) { results += it }
        background.drain(); ui.drain()
        assertEquals(Result.success(null), results.last())
    }

    @Test
    fun `a failed query closes the reader and the next one reopens`() {
        val readers = mutableListOf<FakeReader>()
        var fail = true
        val queries = HistoryQueries("history.sqlite", {
            // Unchecked: a proxy would wrap a checked exception; the generated reader throws its own directly.
            FakeReader { if (fail) throw IllegalStateException("disk I/O error") else TimeSpan(3, 4) }.also { readers += it }.proxy
        }, background, ui)
        queries.load({ it.timeSpan() }) { results += it }
        background.drain(); ui.drain()
        assertEquals("disk I/O error", results.single().exceptionOrNull()?.message)
        fail = false
        queries.load({ it.timeSpan() }) { results += it }
        background.drain(); ui.drain()
        assertEquals(TimeSpan(3, 4), results.last().getOrThrow())
        assertEquals(listOf(true, false), readers.map { it.closed })
    }
}
