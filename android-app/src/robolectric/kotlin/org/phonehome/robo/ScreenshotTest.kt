package org.phonehome.robo

import android.app.Activity
import android.content.Intent
import android.graphics.Bitmap
import android.graphics.Canvas
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.lists.ListsActivity
import org.phonehome.settings.Settings
import org.phonehome.ui.AlertsActivity
import org.phonehome.ui.AppDetailActivity
import org.phonehome.ui.AppsActivity
import org.phonehome.ui.FlowDetailActivity
import org.phonehome.ui.FlowRef
import org.phonehome.ui.MainActivity
import org.phonehome.ui.OnboardingActivity
import org.phonehome.ui.SettingsActivity
import org.phonehome.vpn.Counters
import org.phonehome.vpn.VpnStatus
import org.robolectric.Robolectric
import org.robolectric.RuntimeEnvironment
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode
import java.io.File

/**
 * Renders every screen with the sample's history, day and night, with Android's own graphics (Robolectric's
 * native mode) to PNG: into docs/screenshots/ when run by `scripts/robolectric.sh --screenshots DIR`, else into
 * a temporary folder; fails when a picture is blank.
 */
@RunWith(PhonehomeRunner::class)
@Config(sdk = [36], qualifiers = "w393dp-h851dp-hdpi")
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class ScreenshotTest {
    private val app get() = Fixtures.app
    private val out = System.getProperty("phonehome.screenshots")?.let(::File)
        ?: kotlin.io.path.createTempDirectory("phonehome-screenshots").toFile()

    @Before
    fun phone() {
        Fixtures.phone()
        Fixtures.realHistory()
        Settings(app).setOnboarded()
        Settings(app).block("uid:10088")
        Settings(app).block("domain:tracking.intl.miui.com")
        // The dashboard as it looks while monitoring.
        VpnStatus.update { VpnStatus.State(VpnStatus.Phase.RUNNING, Counters(1284, 25, 6, 48_000, 41_000), upstreamDns = "192.168.1.1") }
        out.mkdirs()
    }

    private fun shoot(name: String, activity: Class<out Activity>, waitFor: String, intent: Intent.() -> Unit = {}) {
        for (mode in listOf("day", "night")) {
            RuntimeEnvironment.setQualifiers(if (mode == "night") "+night" else "+notnight")
            val screen = Robolectric.buildActivity(activity, Intent(app, activity).apply(intent)).setup().get()
            awaitText(screen, waitFor)
            val view = screen.window.decorView
            val bitmap = Bitmap.createBitmap(view.width, view.height, Bitmap.Config.ARGB_8888)
            view.draw(Canvas(bitmap))
            assertNotBlank("$name-$mode", bitmap)
            File(out, "$name-$mode.png").outputStream().use { bitmap.compress(Bitmap.CompressFormat.PNG, 100, it) }
        }
    }

    /** A blank picture has one color almost everywhere; a screen has text, icons and cards. */
    private fun assertNotBlank(name: String, bitmap: Bitmap) {
        val pixels = IntArray(bitmap.width * bitmap.height)
        bitmap.getPixels(pixels, 0, bitmap.width, 0, 0, bitmap.width, bitmap.height)
        val background = pixels.asList().groupingBy { it }.eachCount().maxByOrNull { it.value }!!
        val colors = pixels.toSet().size
        val other = 1.0 - background.value.toDouble() / pixels.size
        assertTrue("$name is blank: $colors colors, ${"%.1f".format(other * 100)}% not background", colors > 50 && other > 0.05)
    }

    @Test
    fun `every screen, day and night`() {
        shoot("onboarding", OnboardingActivity::class.java, "Nothing leaves the phone")
        shoot("dashboard", MainActivity::class.java, "SmartHome Hub")
        shoot("apps", AppsActivity::class.java, "Mi Browser")
        shoot("app-detail", AppDetailActivity::class.java, "tracking.intl.miui.com") {
            putExtra(AppDetailActivity.EXTRA_KEY, "uid:10088")
            putExtra(AppDetailActivity.EXTRA_UID, 10088)
        }
        shoot("flow-detail", FlowDetailActivity::class.java, "Identifier leak") { putExtras(FlowRef.Stored(2).toBundle()) }
        shoot("alerts", AlertsActivity::class.java, "Identifier leak")
        shoot("settings", SettingsActivity::class.java, "Identifiers to watch")
        shoot("lists", ListsActivity::class.java, "No list imported yet")
    }
}
