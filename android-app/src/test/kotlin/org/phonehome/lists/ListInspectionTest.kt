package org.phonehome.lists

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Assert.fail
import org.junit.Rule
import org.junit.Test
import org.junit.rules.TemporaryFolder
import org.phonehome.core.MonitorConfig
import org.phonehome.core.ListFileException
import org.phonehome.core.ListKind
import org.phonehome.core.OwnerSource
import org.phonehome.core.inspectList
import org.phonehome.core.maxListBytes

/** The core's list checks through the generated bindings, as the app calls them (JNA). */
class ListInspectionTest {
    @get:Rule
    val folder = TemporaryFolder()

    private fun file(bytes: ByteArray) = folder.newFile().apply { writeBytes(bytes) }.path

    @Test
    fun `a list is summarised with its first skipped lines`() {
        val summary = inspectList(file("0.0.0.0 a.example\n||b.example^\n2001:db8::/32\n@@||c.example^\n".toByteArray()), ListKind.TRACKER)
        assertEquals(listOf(2uL, 1uL, 1uL), listOf(summary.domains, summary.networks, summary.skipped))
        assertEquals(listOf("line 4 (Exception): @@||c.example^"), summary.firstErrors)
    }

    @Test
    fun `unusable files raise the reason as the message`() {
        fun reason(path: String): ListFileException = try {
            inspectList(path, ListKind.MALWARE)
            fail("accepted $path")
            error("unreachable")
        } catch (e: ListFileException) {
            e
        }
        assertTrue(reason(file(byteArrayOf(0x1f, 0x8b.toByte(), 8, 0))) is ListFileException.Binary)
        val empty = reason(file("# nothing\n".toByteArray()))
        assertTrue(empty is ListFileException.Empty)
        assertEquals("no domain or network in the list (0 lines skipped)", empty.message)
        assertTrue(reason(folder.root.resolve("missing").path) is ListFileException.Unreadable)
        assertEquals(64uL * 1024uL * 1024uL, maxListBytes())
    }

    @Test
    fun `the engine's configuration takes no lists by default`() {
        val config = MonitorConfig(
            mtu = 1500u, virtualDns = null, upstreamDns = "9.9.9.9", ownerSource = OwnerSource.PROC_NET, identifiersToml = null,
            watchedCountries = emptyList(), alertNewDestinations = false, flowIdleSeconds = null, historyPath = null,
            keepPackets = false, blockApps = emptyList(), blockDomains = emptyList(), blockCountries = emptyList(),
            blockNetworks = emptyList(),
        )
        assertEquals(emptyList<Any>(), config.alertLists)
    }
}
