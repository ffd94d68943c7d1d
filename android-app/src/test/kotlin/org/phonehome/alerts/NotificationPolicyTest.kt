package org.phonehome.alerts

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.phonehome.model.AlertKind
import org.phonehome.model.AlertRecord
import org.phonehome.model.Proto
import org.phonehome.model.Severity

fun alert(uid: UInt?, severity: Severity = Severity.HIGH, kind: AlertKind = AlertKind.IDENTIFIER_LEAK, evidence: String = "imei in URL") = AlertRecord(
    ts = 1_795_262_400_000_000L, severity = severity, kind = kind, proto = Proto.TCP,
    srcIp = "10.215.173.1", srcPort = 40000u, dstIp = "203.0.113.7", dstPort = 80u,
    uid = uid, app = uid?.let { "app$it" }, host = "zzhc.vnet.cn", country = "CN", asn = 4134u, asOrg = "Chinanet",
    identifier = "imei", encoding = "plain", evidence = evidence, owner = "China Telecom",
)

class NotificationPolicyTest {
    private var prefs = NotificationPrefs()
    private val minute = 60_000L

    private fun policy(perApp: Int = 3, global: Int = 10) =
        NotificationPolicy({ prefs }, perAppLimit = perApp, globalLimit = global, windowMillis = 10 * minute)

    @Test
    fun `one channel per severity and one group per app`() {
        val policy = policy()
        val high = policy.decide(alert(10123u), 0)!!
        val medium = policy.decide(alert(10124u, Severity.MEDIUM), 0)!!
        assertEquals("alerts_high", high.channel)
        assertEquals("alerts_medium", medium.channel)
        assertEquals("app:10123", high.group)
        assertEquals("app:10124", medium.group)
        assertEquals("app:unknown", policy.decide(alert(null), 0)!!.group)
        assertTrue(high.id != medium.id)
        assertEquals("app10123: Identifier leak", high.title)
    }

    @Test
    fun `each app is rate-limited, and held-back alerts are counted on the next notification`() {
        val policy = policy(perApp = 2)
        assertNotNull(policy.decide(alert(1u), 0))
        assertNotNull(policy.decide(alert(1u), 1))
        assertNull(policy.decide(alert(1u), 2))
        assertNull(policy.decide(alert(1u), 3))
        assertNotNull("another app is not held back", policy.decide(alert(2u), 4))
        val later = policy.decide(alert(1u), 10 * minute + 1)!!
        assertEquals(2, later.heldBack)
        assertEquals(0, policy.decide(alert(1u), 10 * minute + 2)!!.heldBack)
    }

    @Test
    fun `all apps together are rate-limited`() {
        val policy = policy(global = 3)
        val posted = (1u..10u).count { policy.decide(alert(it), 0) != null }
        assertEquals(3, posted)
    }

    @Test
    fun `below the chosen severity, disabled, or first contact not opted in, nothing is posted`() {
        val policy = policy()
        assertNull(policy.decide(alert(1u, Severity.LOW), 0))
        assertNull(policy.decide(alert(1u, Severity.INFO, kind = AlertKind.NEW_DESTINATION), 0))
        prefs = NotificationPrefs(minimum = Severity.INFO)
        assertNull(policy.decide(alert(1u, Severity.INFO, kind = AlertKind.NEW_DESTINATION), 0))
        prefs = NotificationPrefs(minimum = Severity.INFO, firstContact = true)
        assertNotNull(policy.decide(alert(1u, Severity.INFO, kind = AlertKind.NEW_DESTINATION), 0))
        prefs = NotificationPrefs(enabled = false)
        assertNull(policy.decide(alert(2u), 0))
    }

    @Test
    fun `identifiers never reach the notification text`() {
        val evidence = "imei=356938035643809 mac 02:00:00:ab:cd:ef id 9774d56d682e549c ad 38400000-8cf0-11bd-b23e-10b96e40000d " +
            "mail jane.doe@example.org phone +33 6 12 34 56 78"
        val text = policy().decide(alert(1u, evidence = evidence), 0)!!.text
        for (secret in listOf("356938035643809", "ab:cd:ef", "9774d56d682e549c", "10b96e40000d", "jane.doe", "12 34 56")) {
            assertFalse("$secret in $text", text.contains(secret))
        }
        assertTrue(text, text.startsWith("zzhc.vnet.cn — imei=35…"))
    }

    @Test
    fun `each app cycles through its own ids, so no app has more than its limit active and ids stay bounded`() {
        val policy = NotificationPolicy({ prefs }, perAppLimit = 3, globalLimit = 1000, windowMillis = 1, appSlots = 2)
        val first = (0L until 7L).map { policy.decide(alert(1u), it * 10)!! }
        assertEquals(3, first.map { it.id }.toSet().size)
        assertEquals(first.take(3).map { it.id }, first.drop(3).take(3).map { it.id })
        assertEquals(1, first.map { it.summaryId }.toSet().size)
        val second = policy.decide(alert(2u), 100)!!
        assertTrue(second.id !in first.map { it.id } && second.summaryId != first[0].summaryId)
        // A third app takes the slot of the app notified longest ago (app 1), ids and summary included.
        val third = policy.decide(alert(3u), 110)!!
        assertEquals(first[0].summaryId, third.summaryId)
        assertEquals(first[0].id, third.id)
    }
}
