package org.phonehome.history

import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import org.phonehome.core.HistoryException
import org.phonehome.core.HistoryReader
import java.io.File

/** The Rust reader through the generated bindings, on files that are not a history. */
class HistoryReaderTest {
    private val dir = kotlin.io.path.createTempDirectory("phonehome-history").toFile()

    @After
    fun cleanUp() {
        dir.deleteRecursively()
    }

    @Test
    fun `a missing history says nothing was recorded yet`() {
        val path = File(dir, "history.sqlite").path
        val error = assertThrows(HistoryException.Missing::class.java) { HistoryReader.open(path) }
        assertEquals(path, error.path)
    }

    @Test
    fun `a corrupt or foreign file is unreadable, with SQLite's reason`() {
        val corrupt = File(dir, "corrupt.sqlite").apply { writeBytes(ByteArray(4096) { 0x42 }) }
        val error = assertThrows(HistoryException.Unreadable::class.java) { HistoryReader.open(corrupt.path) }
        assertTrue(error.reason, error.reason.contains("not a database"))
        assertEquals(corrupt.path, error.path)
        val empty = File(dir, "empty.sqlite").apply { writeBytes(ByteArray(0)) }
        val foreign = assertThrows(HistoryException.Unreadable::class.java) { HistoryReader.open(empty.path) }
        assertTrue(foreign.reason, foreign.reason.contains("no such table"))
    }
}
