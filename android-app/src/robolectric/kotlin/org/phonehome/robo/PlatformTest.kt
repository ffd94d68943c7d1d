package org.phonehome.robo

import android.app.NotificationManager
import android.content.Intent
import android.graphics.Insets
import android.net.ConnectivityManager
import android.net.LinkProperties
import android.net.VpnService
import android.os.Build
import android.view.WindowInsets
import android.widget.EditText
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNull
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.compat.Platform
import org.phonehome.settings.Settings
import org.phonehome.ui.SettingsActivity
import org.phonehome.vpn.MonitorTile
import org.phonehome.vpn.PhonehomeVpnService
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import java.net.InetAddress
import java.net.InetSocketAddress

/**
 * Every call above minSdk lives in compat.Platform (the rest of the app compiles against API 24); here each of
 * them runs on API 24, 29, 33 and 36, where a call without its version check fails (NoSuchMethodError,
 * NoClassDefFoundError) on the levels below it.
 */
@RunWith(PhonehomeRunner::class)
@Config(sdk = [24, 29, 33, 36], shadows = [RecordingVpnBuilder::class])
class PlatformTest {
    private val app get() = Fixtures.app

    @Before
    fun phone() {
        Fixtures.phone()
    }

    @Test
    fun `every compat call runs on every level`() {
        val manager = app.getSystemService(NotificationManager::class.java)
        val channel = Platform.Channel("c", "C", NotificationManager.IMPORTANCE_HIGH)
        Platform.createChannels(manager, listOf(channel))
        val notification = Platform.notificationBuilder(app, channel).setSmallIcon(org.phonehome.R.drawable.ic_stat_phonehome).build()
        assertEquals(Build.VERSION.SDK_INT >= 33, Platform.needsNotificationPermission(app))
        Platform.notificationSettings(app)
        Platform.startForegroundService(app, Intent(app, PhonehomeVpnService::class.java))
        val service = Robolectric.buildService(PhonehomeVpnService::class.java).create().get()
        assertEquals(true, Platform.startForeground(service, 1, notification))
        Platform.setUnmetered(service.Builder())
        val connectivity = app.getSystemService(ConnectivityManager::class.java)
        val local = InetSocketAddress(InetAddress.getByName("10.215.173.1"), 40000)
        val remote = InetSocketAddress(InetAddress.getByName("192.0.2.1"), 443)
        if (Build.VERSION.SDK_INT < 29) assertNull(Platform.connectionOwnerUid(connectivity, 6, local, remote))
        else runCatching { Platform.connectionOwnerUid(connectivity, 6, local, remote) } // Robolectric has no owner table
        assertFalse(Platform.privateDns(LinkProperties()).active)
        if (Build.VERSION.SDK_INT >= 29) Platform.systemBars(WindowInsets.CONSUMED)
    }

    /** On 14+ the tile must hand a PendingIntent, which Robolectric's tile cannot take: tested below 34. */
    @Test
    @Config(sdk = [24, 29, 33])
    fun `the tile opens the app when consent is needed`() {
        org.robolectric.shadows.ShadowVpnService.setPrepareResult(Intent("consent"))
        val tile = Robolectric.buildService(MonitorTile::class.java).create().get()
        tile.onClick()
        org.robolectric.shadows.ShadowVpnService.setPrepareResult(null)
        assertEquals(org.phonehome.ui.MainActivity::class.java.name, shadowOf(app).nextStartedActivity.component?.className)
    }

    @Test
    @Config(sdk = [36])
    fun `screens keep clear of the system bars drawn over them (edge to edge, Android 15+)`() {
        Settings(app).setOnboarded()
        val activity = Robolectric.buildActivity(SettingsActivity::class.java).setup().get()
        val content = activity.findViewById<android.view.ViewGroup>(android.R.id.content).getChildAt(0)
        val insets = WindowInsets.Builder().setInsets(WindowInsets.Type.systemBars(), Insets.of(12, 80, 16, 48)).build()
        content.dispatchApplyWindowInsets(insets)
        assertEquals(listOf(12, 80, 16, 48), listOf(content.paddingLeft, content.paddingTop, content.paddingRight, content.paddingBottom))
    }

    @Test
    fun `an identifier typed in settings is saved without leaving the field`() {
        Settings(app).setOnboarded()
        val controller = Robolectric.buildActivity(SettingsActivity::class.java).setup()
        val fields = mutableListOf<EditText>()
        fun walk(view: android.view.View) {
            if (view is EditText) fields += view
            if (view is android.view.ViewGroup) for (i in 0 until view.childCount) walk(view.getChildAt(i))
        }
        walk(controller.get().window.decorView)
        val imei = fields.first() // IMEI is the first identifier
        imei.requestFocus()
        imei.setText("356938035643809")
        controller.pause().stop() // the user switches away with the keyboard still open
        assertEquals(listOf("356938035643809"), Settings(app).identifier("imei"))
    }
}
