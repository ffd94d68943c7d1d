package org.phonehome.robo

import android.content.Intent
import android.content.pm.ServiceInfo
import android.net.ConnectivityManager
import android.net.NetworkRequest
import android.net.VpnService
import android.os.Build
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.phonehome.alerts.AlertNotifier
import org.phonehome.core.MonitorException
import org.phonehome.settings.Settings
import org.phonehome.ui.MainActivity
import org.phonehome.vpn.BootReceiver
import org.phonehome.vpn.MonitorTile
import org.phonehome.vpn.PhonehomeVpnService
import org.phonehome.vpn.VpnStatus
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.android.controller.ServiceController
import org.robolectric.annotation.Config
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.shadows.ShadowConnectivityManager
import org.robolectric.shadows.ShadowVpnService
import java.util.concurrent.CountDownLatch

/**
 * As on a phone, `requestNetwork` needs CHANGE_NETWORK_STATE in the manifest (a SecurityException otherwise:
 * the crash at every start this app once had); Robolectric's own shadow does not check it.
 */
@Implements(ConnectivityManager::class)
class PermissionCheckingConnectivityManager : ShadowConnectivityManager() {
    @Implementation
    override fun requestNetwork(request: NetworkRequest, callback: ConnectivityManager.NetworkCallback) {
        val app = Fixtures.app
        val declared = app.packageManager.getPackageInfo(app.packageName, android.content.pm.PackageManager.GET_PERMISSIONS).requestedPermissions
        if (declared?.contains("android.permission.CHANGE_NETWORK_STATE") != true) {
            throw SecurityException("${app.packageName} was not granted android.permission.CHANGE_NETWORK_STATE")
        }
        super.requestNetwork(request, callback)
    }
}

/** The VPN service's lifecycle as Android drives it, with the tun and the engine replaced by [FakeMonitors]. */
@RunWith(PhonehomeRunner::class)
@Config(sdk = [24, 29, 33, 36], shadows = [PermissionCheckingConnectivityManager::class, RecordingVpnBuilder::class])
class ServiceTest {
    private lateinit var engines: FakeMonitors
    private val app get() = Fixtures.app

    @Before
    fun phone() {
        engines = Fixtures.phone()
        Fixtures.realHistory()
        Settings(app).setOnboarded()
    }

    @After
    fun noMisuse() {
        settle()
        assertEquals("engine calls on the main thread or after close", emptyList<String>(), engines.violations.toList())
    }

    private fun command(controller: ServiceController<PhonehomeVpnService>, intent: Intent?): ServiceController<PhonehomeVpnService> {
        controller.withIntent(intent).startCommand(0, 1)
        settle()
        return controller
    }

    private fun started(intent: Intent? = Intent(app, PhonehomeVpnService::class.java)): ServiceController<PhonehomeVpnService> =
        command(Robolectric.buildService(PhonehomeVpnService::class.java, intent).create(), intent)

    private fun action(action: String) = Intent(app, PhonehomeVpnService::class.java).setAction(action)

    @Test
    fun `start runs the engine in the foreground with a Stop action, following the default network`() {
        val service = started()
        assertEquals(listOf("tun 1", "start 1 on 101"), engines.events.take(2))
        assertEquals(VpnStatus.Phase.RUNNING, VpnStatus.current.phase)
        assertEquals(listOf("address 10.215.173.1/24", "route 0.0.0.0/0", "address fd66:f83a:c650::1/64", "route ::/0", "dns 10.215.173.2"),
            RecordingVpnBuilder.configured.filter { !it.startsWith("exclude") }.takeLast(5))
        val shadow = shadowOf(service.get())
        val notification = shadow.lastForegroundNotification ?: failure("no foreground notification")
        assertEquals(AlertNotifier.STATUS_ID, shadow.lastForegroundNotificationId)
        assertEquals(app.getString(R.string.action_stop_short), notification.actions.single().title.toString())
        if (Build.VERSION.SDK_INT >= 34) assertEquals(ServiceInfo.FOREGROUND_SERVICE_TYPE_SPECIAL_USE, service.get().foregroundServiceType)
        val callbacks = shadowOf(app.getSystemService(ConnectivityManager::class.java)).networkCallbacks
        assertEquals("one default-network callback", 1, callbacks.size)
        // The counters reach the screens and the notification from the lifecycle thread.
        await("counters") { VpnStatus.current.counters?.takeIf { it.flowsFinished == 42L } }
        assertTrue(Settings(app).wantRunning())
    }

    @Test
    fun `stop, from the notification's action, stops the engine and the service and forgets the wish to run`() {
        val service = started()
        val stop = service.get().let { shadowOf(it).lastForegroundNotification!!.actions.single().actionIntent }
        assertEquals(PhonehomeVpnService.ACTION_STOP, shadowOf(stop).savedIntent.action)
        command(service, action(PhonehomeVpnService.ACTION_STOP))
        assertEquals(listOf("stop 1", "close 1"), engines.events.takeLast(2))
        assertEquals(VpnStatus.Phase.STOPPED, VpnStatus.current.phase)
        assertTrue(shadowOf(service.get()).isStoppedBySelf)
        assertTrue(!Settings(app).wantRunning())
        assertTrue("the network callback is gone", shadowOf(app.getSystemService(ConnectivityManager::class.java)).networkCallbacks.isEmpty())
    }

    @Test
    fun `a restart (after a list change) opens the new tunnel before the old engine stops, and the UI never holds an engine`() {
        val service = started()
        PhonehomeVpnService.restart(app) // what ListsActivity does when a list changed
        val intent = shadowOf(app).nextStartedService
        assertEquals("org.phonehome.RESTART", intent.action)
        command(service, intent)
        assertEquals(listOf("tun 1", "start 1 on 101", "tun 2", "stop 1", "close 1", "start 2 on 102"), engines.events.filter { !it.startsWith("dns") })
        assertEquals(2, engines.configs.size)
        assertEquals(VpnStatus.Phase.RUNNING, VpnStatus.current.phase)
    }

    @Test
    fun `the system revoking the VPN stops it for good`() {
        val service = started()
        service.get().onRevoke()
        settle()
        assertEquals(listOf("stop 1", "close 1"), engines.events.takeLast(2))
        assertEquals(VpnStatus.Phase.STOPPED, VpnStatus.current.phase)
        assertEquals(app.getString(R.string.problem_revoked), VpnStatus.current.problem)
        assertTrue(!Settings(app).wantRunning())
    }

    @Test
    fun `always-on starts the service with a null intent, and with the VpnService action`() {
        started(null)
        assertEquals(VpnStatus.Phase.RUNNING, VpnStatus.current.phase)
        val second = Fixtures.phone()
        started(Intent(VpnService.SERVICE_INTERFACE))
        assertEquals(listOf("tun 1", "start 1 on 101"), second.events.take(2))
    }

    @Test
    fun `an excluded app that was uninstalled since is skipped, not a reason to stay off`() {
        Settings(app).setExcluded("com.example.uninstalled", true)
        Settings(app).setExcluded("org.mozilla.firefox", true)
        started()
        assertEquals(VpnStatus.Phase.RUNNING, VpnStatus.current.phase)
        assertEquals(listOf("exclude org.phonehome", "exclude org.mozilla.firefox"),
            RecordingVpnBuilder.configured.filter { it.startsWith("exclude") }.takeLast(2))
    }

    @Test
    fun `a refused foreground start (a sticky restart from the background) stops cleanly instead of crashing`() {
        val intent: Intent? = null
        val controller = Robolectric.buildService(PhonehomeVpnService::class.java, intent).create()
        shadowOf(controller.get()).setThrowInStartForeground(IllegalStateException("ForegroundServiceStartNotAllowedException"))
        val result = controller.get().onStartCommand(intent, 0, 1)
        settle()
        assertEquals(android.app.Service.START_NOT_STICKY, result)
        assertTrue(engines.events.isEmpty())
        assertEquals(app.getString(R.string.problem_background_start), VpnStatus.current.problem)
        assertTrue(shadowOf(controller.get()).isStoppedBySelf)
    }

    @Test
    fun `an engine that refuses to start is reported and the service stops`() {
        engines.refuseStart = MonitorException.Config("bad list")
        val service = started()
        assertEquals(VpnStatus.Phase.STOPPED, VpnStatus.current.phase)
        assertTrue(VpnStatus.current.problem!!, VpnStatus.current.problem!!.contains("bad list"))
        assertTrue(shadowOf(service.get()).isStoppedBySelf)
    }

    @Test
    fun `the dashboard renders while a slow stop drains the engine, nothing of the UI waits for it`() {
        val service = started()
        val gate = CountDownLatch(1)
        engines.stopGate = gate
        service.get().onStartCommand(action(PhonehomeVpnService.ACTION_STOP), 0, 2) // the stop now blocks the lifecycle thread
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        awaitText(main, "Latest alerts")
        click(main, "Apps")
        gate.countDown()
        settle()
        assertEquals(VpnStatus.Phase.STOPPED, VpnStatus.current.phase)
    }

    @Test
    fun `the consent dialog comes first, and monitoring starts once the user allows it`() {
        val consent = Intent("com.android.vpndialogs.ConfirmDialog")
        ShadowVpnService.setPrepareResult(consent)
        if (Build.VERSION.SDK_INT >= 33) shadowOf(app).grantPermissions("android.permission.POST_NOTIFICATIONS")
        val main = Robolectric.buildActivity(MainActivity::class.java).setup()
        click(main.get(), "Start monitoring")
        val asked = shadowOf(main.get()).nextStartedActivityForResult ?: failure("no consent asked")
        assertEquals(consent.action, asked.intent.action)
        assertNull("nothing started before consent", shadowOf(app).nextStartedService)
        ShadowVpnService.setPrepareResult(null)
        shadowOf(main.get()).receiveResult(asked.intent, android.app.Activity.RESULT_OK, null)
        assertEquals(PhonehomeVpnService::class.java.name, shadowOf(app).nextStartedService.component?.className)
    }

    @Test
    fun `a missing consent screen is explained, not a crash`() {
        ShadowVpnService.setPrepareResult(Intent("com.example.no.such.dialog"))
        if (Build.VERSION.SDK_INT >= 33) shadowOf(app).grantPermissions("android.permission.POST_NOTIFICATIONS")
        shadowOf(app).checkActivities(true)
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        click(main, "Start monitoring")
        assertEquals(app.getString(R.string.no_activity), org.robolectric.shadows.ShadowToast.getTextOfLatestToast())
    }

    @Test
    fun `boot starts the VPN when asked to, an update of the app restarts it when it was running`() {
        val receiver = BootReceiver()
        receiver.onReceive(app, Intent(Intent.ACTION_BOOT_COMPLETED))
        assertNull("start at boot is off by default", shadowOf(app).nextStartedService)
        Settings(app).setStartAtBoot(true)
        receiver.onReceive(app, Intent(Intent.ACTION_BOOT_COMPLETED))
        assertNotNull(shadowOf(app).nextStartedService)
        receiver.onReceive(app, Intent(Intent.ACTION_MY_PACKAGE_REPLACED))
        assertNull("it was not running before the update", shadowOf(app).nextStartedService)
        Settings(app).setWantRunning(true)
        receiver.onReceive(app, Intent(Intent.ACTION_MY_PACKAGE_REPLACED))
        assertNotNull(shadowOf(app).nextStartedService)
        ShadowVpnService.setPrepareResult(Intent("consent"))
        receiver.onReceive(app, Intent(Intent.ACTION_BOOT_COMPLETED))
        assertNull("without consent nothing starts", shadowOf(app).nextStartedService)
        ShadowVpnService.setPrepareResult(null)
    }

    @Test
    fun `the Quick Settings tile starts and stops monitoring`() {
        val tile = Robolectric.buildService(MonitorTile::class.java).create().get()
        tile.onClick()
        assertEquals(PhonehomeVpnService::class.java.name, shadowOf(app).nextStartedService.component?.className)
        started()
        tile.onClick()
        assertEquals(PhonehomeVpnService.ACTION_STOP, shadowOf(app).nextStartedService.action)
    }
}
