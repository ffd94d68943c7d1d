package org.phonehome.lists

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder
import org.phonehome.core.ListKind
import java.io.File

class ListUpdaterTest {
    @get:Rule
    val folder = TemporaryFolder()

    private val day = 86_400_000L
    private var now = 1_000 * day
    private val catalog by lazy { ListCatalog(File(folder.root, "lists")) }

    /** A source that serves [body] (or answers [answer]) and records the validators it was sent. */
    private inner class FakeSource(var body: String = "", var answer: Fetch? = null) : ListSource {
        val asked = mutableListOf<Triple<String, String?, String?>>()
        override fun fetch(url: String, etag: String?, lastModified: String?, into: File): Fetch {
            asked += Triple(url, etag, lastModified)
            answer?.let { return it }
            into.writeText(body)
            return Fetch.Fetched(into, "\"v${asked.size}\"", "Sat, 21 Nov 2026 10:00:0${asked.size} GMT")
        }
    }

    private fun updater(source: ListSource) = ListUpdater(catalog, source, clock = { now })

    private fun added(source: FakeSource, auto: Boolean = true): ListEntry {
        val outcome = updater(source).add(" https://lists.example/t.txt ", "T", ListKind.TRACKER, auto)
        return (outcome as Outcome.Updated).entry
    }

    @Test
    fun `a list added by URL is validated by the engine and saved with its counts and validators`() {
        val entry = added(FakeSource("0.0.0.0 ads.example\n||t.example^\n192.0.2.0/24\nbad line here\n"))
        assertEquals("https://lists.example/t.txt", entry.url)
        assertEquals(listOf(2L, 1L, "\"v1\"", now, null), listOf(entry.domains, entry.networks, entry.etag, entry.updatedAt, entry.error))
        assertEquals(listOf(entry), catalog.entries())
        assertTrue(catalog.fileOf(entry).readText().startsWith("0.0.0.0 ads.example"))
    }

    @Test
    fun `nothing is kept of a new list that is invalid or cannot be fetched`() {
        for (source in listOf(FakeSource("# only comments\n"), FakeSource("\u0000\u0001binary"), FakeSource(answer = Fetch.Failed("HTTP 404")))) {
            val outcome = updater(source).add("https://lists.example/x", "X", ListKind.MALWARE, autoUpdate = true)
            assertTrue("$outcome", outcome is Outcome.Failed)
        }
        assertTrue(catalog.entries().isEmpty())
        assertEquals("no list file nor temporary file", emptyList<String>(), catalog.dir.list()!!.filter { it != "catalog.properties" })
    }

    @Test
    fun `an update sends the validators held and a new version replaces the file`() {
        val source = FakeSource("a.example\n")
        val entry = added(source)
        now += day
        source.body = "a.example\nb.example\n"
        assertTrue("changed", updater(source).updateDue(day))
        assertEquals(Triple("https://lists.example/t.txt", "\"v1\"", "Sat, 21 Nov 2026 10:00:01 GMT"), source.asked.last())
        val updated = catalog.entry(entry.id)!!
        assertEquals(listOf(2L, "\"v2\"", now, now), listOf(updated.domains, updated.etag, updated.updatedAt, updated.checkedAt))
        assertEquals("a.example\nb.example\n", catalog.fileOf(entry).readText())
    }

    @Test
    fun `an invalid or failed download keeps the old list and records why`() {
        val source = FakeSource("a.example\n")
        val entry = added(source)
        for ((body, answer) in listOf("PK\u0003\u0004 zip" to null, "" to Fetch.Failed("HTTP 503 Service Unavailable"))) {
            now += day
            source.body = body
            source.answer = answer
            assertFalse("nothing changed", updater(source).updateDue(day))
            val kept = catalog.entry(entry.id)!!
            assertEquals("a.example\n", catalog.fileOf(entry).readText())
            assertEquals(listOf(1L, "\"v1\"", entry.updatedAt, now), listOf(kept.domains, kept.etag, kept.updatedAt, kept.checkedAt))
            assertTrue(kept.error!!, kept.error!!.isNotBlank())
        }
        assertEquals("HTTP 503 Service Unavailable", catalog.entry(entry.id)!!.error)
        now += day
        source.answer = Fetch.NotModified
        assertFalse(updater(source).updateDue(day))
        assertNull("a 304 clears the error", catalog.entry(entry.id)!!.error)
    }

    @Test
    fun `lists not due or opted out are not asked`() {
        val source = FakeSource("a.example\n")
        val manual = added(source, auto = false)
        added(source)
        val asked = source.asked.size
        now += day / 2
        assertFalse(updater(source).updateDue(day))
        assertEquals("nothing due yet", asked, source.asked.size)
        now += day
        updater(source).updateDue(day)
        assertEquals("only the opted-in list", asked + 1, source.asked.size)
        assertEquals(Outcome.Updated::class, updater(source).refresh(manual.id)::class)
    }

    @Test
    fun `validators are not sent when the file is missing`() {
        val source = FakeSource("a.example\n")
        val entry = added(source)
        catalog.fileOf(entry).delete()
        now += day
        assertTrue(updater(source).updateDue(day))
        assertEquals(Triple("https://lists.example/t.txt", null, null), source.asked.last())
    }

    @Test
    fun `an imported file is validated before it is kept`() {
        val good = updater(FakeSource()).import("*.metrics.example\n".byteInputStream(), "Mine", ListKind.CUSTOM)
        val entry = (good as Outcome.Updated).entry
        assertEquals(listOf(1L, null), listOf(entry.domains, entry.url))
        val bad = updater(FakeSource()).import(ByteArray(100) { it.toByte() }.inputStream(), "Binary", ListKind.CUSTOM)
        assertTrue("$bad", bad is Outcome.Failed)
        assertEquals(listOf(entry), catalog.entries())
    }
}
