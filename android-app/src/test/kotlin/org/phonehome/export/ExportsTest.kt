package org.phonehome.export

import org.junit.Assert.assertEquals
import org.junit.Assert.assertThrows
import org.junit.Assert.assertTrue
import org.junit.Test
import java.io.File
import java.io.IOException
import java.nio.file.Files

class ExportsTest {
    @Test
    fun `file names are UTC, sortable and carry the right extension`() {
        val at = 1_795_262_400_123L // 2026-11-21T12:00:00.123Z
        assertEquals("phonehome-flows-20261121-120000Z.csv", ExportKind.FLOWS_CSV.fileName(at))
        assertEquals("phonehome-alerts-20261121-120000Z.jsonl", ExportKind.ALERTS_JSONL.fileName(at))
        assertEquals("text/csv", ExportKind.FLOWS_CSV.mimeType)
    }

    private class Target(override val fd: Int) : ExportTarget {
        var closed = false
        override fun close() { closed = true }
    }

    @Test
    fun `the writer hands the target's fd to the source and closes the target`() {
        val target = Target(fd = 7)
        var seen: Pair<ExportKind, Int>? = null
        val rows = ExportWriter { kind, fd -> seen = kind to fd; 12L }.write(ExportKind.ALERTS_JSONL) { target }
        assertEquals(12L, rows)
        assertEquals(ExportKind.ALERTS_JSONL to 7, seen)
        assertTrue(target.closed)
    }

    @Test
    fun `the target is closed when writing fails`() {
        val target = Target(fd = 7)
        assertThrows(IOException::class.java) {
            ExportWriter { _, _ -> throw IOException("disk full") }.write(ExportKind.FLOWS_CSV) { target }
        }
        assertTrue(target.closed)
    }

    @Test
    fun `only the newest shared copies are kept`() {
        val dir = Files.createTempDirectory("exports").toFile()
        try {
            val files = (1..6).map { i -> File(dir, "f$i.csv").apply { writeText("x"); setLastModified(i * 1000L) } }
            pruneOldest(files, keep = 4, modified = File::lastModified) { it.delete() }
            assertEquals(listOf("f3.csv", "f4.csv", "f5.csv", "f6.csv"), dir.list()!!.sorted())
        } finally {
            dir.deleteRecursively()
        }
    }
}
