package org.phonehome.lists

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder
import org.phonehome.core.ListFile
import org.phonehome.core.ListKind
import java.io.File

class ListCatalogTest {
    @get:Rule
    val folder = TemporaryFolder()

    private fun catalog() = ListCatalog(File(folder.root, "lists"))

    private fun installed(catalog: ListCatalog, entry: ListEntry, content: String): ListEntry {
        val temp = catalog.tempFile().apply { writeText(content) }
        assertTrue(catalog.install(entry, temp, new = catalog.entry(entry.id) == null))
        return entry
    }

    @Test
    fun `entries survive a new catalog object with every field`() {
        val full = ListEntry(
            id = "a-1", name = "HaGeZi \"light\", ünïcode", kind = ListKind.TELEMETRY, url = "https://lists.example/l.txt",
            autoUpdate = true, enabled = false, domains = 123_456, networks = 7, updatedAt = 1_700_000_000_000,
            checkedAt = 1_700_000_100_000, etag = "W/\"x\"", lastModified = "Tue, 21 Nov 2026 10:00:00 GMT", error = "HTTP 500",
        )
        val bare = ListEntry(id = "b-2", name = "mine", kind = ListKind.CUSTOM)
        catalog().put(full)
        catalog().put(bare)
        assertEquals(listOf(full, bare), catalog().entries())
        catalog().update("a-1") { it.copy(error = null) }
        assertEquals(listOf(full.copy(error = null), bare), catalog().entries())
        assertNull(catalog().update("missing") { it })
    }

    @Test
    fun `install replaces the content atomically and leaves no temporary file`() {
        val catalog = catalog()
        val entry = installed(catalog, ListEntry(id = "t", name = "t", kind = ListKind.TRACKER), "old.example\n")
        installed(catalog, entry.copy(domains = 1), "new.example\n")
        assertEquals("new.example\n", catalog.fileOf(entry).readText())
        assertEquals(listOf(entry.copy(domains = 1)), catalog.entries())
        assertEquals(setOf("catalog.properties", "t.list"), catalog.dir.list()!!.toSet())
    }

    @Test
    fun `an update keeps the choices made meanwhile and is dropped for a removed list`() {
        val catalog = catalog()
        val entry = installed(catalog, ListEntry(id = "u", name = "u", kind = ListKind.TRACKER, url = "https://l.example/u"), "a.example\n")
        catalog.update("u") { it.copy(enabled = false, autoUpdate = true) }
        val newer = entry.copy(domains = 2, etag = "\"2\"", updatedAt = 5, checkedAt = 5)
        assertTrue(catalog.install(newer, catalog.tempFile().apply { writeText("a.example\nb.example\n") }, new = false))
        assertEquals(newer.copy(enabled = false, autoUpdate = true), catalog.entry("u"))
        catalog.remove("u")
        val late = catalog.tempFile().apply { writeText("c.example\n") }
        assertFalse(catalog.install(newer, late, new = false))
        assertTrue(catalog.entries().isEmpty())
        assertFalse(catalog.fileOf(entry).exists())
    }

    @Test
    fun `the engine gets enabled lists whose files exist`() {
        val catalog = catalog()
        val on = installed(catalog, ListEntry(id = "on", name = "On", kind = ListKind.MALWARE), "192.0.2.0/24\n")
        installed(catalog, ListEntry(id = "off", name = "Off", kind = ListKind.TRACKER, enabled = false), "a.example\n")
        catalog.put(ListEntry(id = "gone", name = "Gone", kind = ListKind.TRACKER))
        assertEquals(listOf(ListFile("On", ListKind.MALWARE, catalog.fileOf(on).path)), catalog.engineLists())
    }

    @Test
    fun `remove deletes the entry and its file`() {
        val catalog = catalog()
        val entry = installed(catalog, ListEntry(id = "x", name = "x", kind = ListKind.CUSTOM), "x.example\n")
        catalog.remove("x")
        assertTrue(catalog.entries().isEmpty())
        assertFalse(catalog.fileOf(entry).exists())
    }

    @Test
    fun `a damaged catalog shows no lists and entries with unsafe ids or kinds are dropped`() {
        val catalog = catalog()
        catalog.dir.mkdirs()
        val saved = File(catalog.dir, "catalog.properties")
        saved.writeText("ids=a\na.name=\\uZZZZ\n")
        assertTrue(catalog.entries().isEmpty())
        saved.writeText(
            "ids=../../shared_prefs/settings,odd,good\n../../shared_prefs/settings.name=evil\n" +
                "../../shared_prefs/settings.kind=TRACKER\nodd.name=odd\nodd.kind=NO_SUCH_KIND\ngood.name=good\n" +
                "good.kind=MALWARE\ngood.domains=many\n",
        )
        assertEquals(listOf(ListEntry(id = "good", name = "good", kind = ListKind.MALWARE)), catalog.entries())
    }
}
