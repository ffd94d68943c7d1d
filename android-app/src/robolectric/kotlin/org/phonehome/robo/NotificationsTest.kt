package org.phonehome.robo

import android.app.NotificationManager
import android.os.Build
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.alerts.AlertNotifier
import org.phonehome.model.AlertKind
import org.phonehome.model.AlertRecord
import org.phonehome.model.Proto
import org.phonehome.model.Severity
import org.phonehome.settings.Settings
import org.phonehome.ui.MainActivity
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowVpnService
import java.time.Duration

/** AlertRecord notifications as Android shows them: channels, groups per app, redaction, rate limits, the per-app cap. */
@RunWith(PhonehomeRunner::class)
@Config(sdk = [24, 29, 33, 36])
class NotificationsTest {
    private val app get() = Fixtures.app
    private val manager get() = app.getSystemService(NotificationManager::class.java)
    private lateinit var notifier: AlertNotifier
    private var clock = 1_000_000L

    @Before
    fun phone() {
        Fixtures.phone()
        Fixtures.realHistory()
        Settings(app).setOnboarded()
        notifier = AlertNotifier(app, Settings(app)) { clock }
        notifier.createChannels()
    }

    private fun alert(uid: Int, evidence: String = "imei=356938035643809 in the query") = AlertRecord(
        ts = 1_732_190_400_000_000L, severity = Severity.HIGH, kind = AlertKind.IDENTIFIER_LEAK, proto = Proto.TCP,
        srcIp = "10.215.173.1", srcPort = 40000u, dstIp = "61.160.224.10", dstPort = 9988u, uid = uid.toUInt(),
        app = "com.qualcomm.qti.autoregistration", host = "zzhc.vnet.cn", country = "CN", asn = 140293u, asOrg = "China Telecom",
        identifier = "imei", encoding = "plain", evidence = evidence, owner = "China Telecom",
    )

    /** The alert notifications (a service left running by an earlier test may post its status one). */
    private val posted get() = shadowOf(manager).allNotifications.filter { it.group != null }
    private val described get() = posted.map { "${it.group}/${it.extras.getCharSequence("android.title")}/${it.flags}" }

    @Test
    fun `channels per severity on Android 8+, and posting works on Android 7 without them`() {
        if (Build.VERSION.SDK_INT >= 26) {
            assertEquals(setOf("status", "alerts_high", "alerts_medium", "alerts_low", "alerts_info"),
                shadowOf(manager).notificationChannels.map { (it as android.app.NotificationChannel).id }.toSet())
        }
        notifier.onAlert(alert(10057))
        assertEquals(described.toString(), 2, posted.size) // the alert and its app's group summary
    }

    @Test
    fun `grouped per app, identifiers masked, nothing of it on the lock screen`() {
        notifier.onAlert(alert(10057))
        notifier.onAlert(alert(10088))
        val groups = posted.map { it.group }.toSet()
        assertEquals(setOf("app:10057", "app:10088"), groups)
        assertEquals(2, posted.count { it.flags and android.app.Notification.FLAG_GROUP_SUMMARY != 0 })
        val child = posted.first { it.flags and android.app.Notification.FLAG_GROUP_SUMMARY == 0 }
        val text = child.extras.getCharSequence("android.text").toString()
        assertFalse(text, text.contains("356938035643809"))
        assertTrue(text, text.contains("zzhc.vnet.cn"))
        val public = child.publicVersion ?: failure("no public version")
        assertFalse(public.extras.getCharSequence("android.title").toString().contains("zzhc"))
        assertEquals(android.app.Notification.VISIBILITY_PRIVATE, child.visibility)
    }

    @Test
    fun `rate-limited per app, at most three active per app with their ids reused`() {
        repeat(5) { notifier.onAlert(alert(10057)) }
        assertEquals("3 alerts and a summary within the window: $described", 4, posted.size)
        repeat(4) { window ->
            clock += Duration.ofMinutes(11).toMillis()
            repeat(3) { n -> notifier.onAlert(alert(10057, evidence = "window $window alert $n")) }
            assertEquals("window $window: still 3 alerts and a summary: $described", 4, posted.size)
            val texts = posted.map { it.extras.getCharSequence("android.text").toString() }
            assertTrue("window $window's alerts replaced the older ones: $texts", (0..2).all { n -> texts.any { it.contains("window $window alert $n") } })
        }
    }

    @Test
    fun `notifications refused, nothing is posted, the dashboard says so and offers to allow them`() {
        shadowOf(manager).setNotificationsEnabled(false)
        val before = AlertNotifier.unseen.get()
        notifier.onAlert(alert(10057))
        assertEquals(described.toString(), 0, posted.size)
        assertEquals(before + 1, AlertNotifier.unseen.get())
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        awaitText(main, "Alerts are not shown")
        click(main, "Allow notifications")
        if (Build.VERSION.SDK_INT >= 33) {
            assertEquals("android.permission.POST_NOTIFICATIONS", shadowOf(main).lastRequestedPermission.requestedPermissions.single())
        } else {
            assertTrue(shadowOf(main).nextStartedActivity.action!!.contains("SETTINGS"))
        }
    }

    @Test
    fun `Start asks for the notification permission first on Android 13+, then for the VPN`() {
        ShadowVpnService.setPrepareResult(android.content.Intent("consent"))
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        click(main, "Start monitoring")
        if (Build.VERSION.SDK_INT >= 33) {
            val request = shadowOf(main).lastRequestedPermission ?: failure("no permission asked")
            assertEquals("android.permission.POST_NOTIFICATIONS", request.requestedPermissions.single())
            // Denied: monitoring goes on without notifications.
            main.onRequestPermissionsResult(request.requestCode, request.requestedPermissions,
                intArrayOf(android.content.pm.PackageManager.PERMISSION_DENIED))
        } else {
            assertEquals(null, shadowOf(main).lastRequestedPermission)
        }
        assertEquals("consent", shadowOf(main).nextStartedActivityForResult.intent.action)
        ShadowVpnService.setPrepareResult(null)
    }
}
