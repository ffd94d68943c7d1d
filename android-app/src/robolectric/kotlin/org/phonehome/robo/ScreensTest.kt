package org.phonehome.robo

import android.app.Activity
import android.content.Intent
import android.content.res.Configuration
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.lists.ListsActivity
import org.phonehome.settings.Settings
import org.phonehome.ui.AlertsActivity
import org.phonehome.ui.AppDetailActivity
import org.phonehome.ui.AppsActivity
import org.phonehome.ui.ExclusionsActivity
import org.phonehome.ui.FlowDetailActivity
import org.phonehome.ui.FlowRef
import org.phonehome.ui.MainActivity
import org.phonehome.ui.OnboardingActivity
import org.phonehome.ui.SettingsActivity
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config

/** Every screen starts, shows the history (real, or none yet) and survives a rotation, on each API level. */
@RunWith(PhonehomeRunner::class)
@Config(sdk = [24, 29, 33, 36])
class ScreensTest {
    private class Screen(val activity: Class<out Activity>, val intent: Intent.() -> Unit = {})

    private val app get() = Fixtures.app
    private val screens = mapOf(
        "dashboard" to Screen(MainActivity::class.java),
        "onboarding" to Screen(OnboardingActivity::class.java),
        "apps" to Screen(AppsActivity::class.java),
        "app" to Screen(AppDetailActivity::class.java) {
            putExtra(AppDetailActivity.EXTRA_KEY, "uid:10057")
            putExtra(AppDetailActivity.EXTRA_UID, 10057)
        },
        "flow" to Screen(FlowDetailActivity::class.java) { putExtras(FlowRef.Stored(2).toBundle()) },
        "alerts" to Screen(AlertsActivity::class.java),
        "settings" to Screen(SettingsActivity::class.java),
        "exclusions" to Screen(ExclusionsActivity::class.java),
        "lists" to Screen(ListsActivity::class.java),
    )

    @Before
    fun phone() {
        Fixtures.phone()
        Settings(app).setOnboarded()
    }

    /** Starts [name], waits for every one of [shown], rotates, and waits for them again on the new activity. */
    private fun showsAndRotates(name: String, vararg shown: String) {
        val screen = screens.getValue(name)
        val controller = Robolectric.buildActivity(screen.activity, Intent(app, screen.activity).apply(screen.intent)).setup()
        shown.forEach { awaitText(controller.get(), it) }
        val before = controller.get()
        controller.configurationChange(Configuration(before.resources.configuration).apply { orientation = Configuration.ORIENTATION_LANDSCAPE })
        shown.forEach { awaitText(controller.get(), it) }
        controller.pause().stop().destroy()
    }

    @Test
    fun `with the sample's history, every screen shows it and survives rotation`() {
        Fixtures.realHistory()
        showsAndRotates("dashboard", "Not monitoring", "Start monitoring", "SmartHome Hub", "History from")
        showsAndRotates("onboarding", "Nothing leaves the phone", "Continue")
        showsAndRotates("apps", "AutoRegistration", "Mi Browser", "Firefox", "SmartHome Hub", "system")
        showsAndRotates("app", "AutoRegistration", "com.qualcomm.qti.autoregistration", "zzhc.vnet.cn", "China Telecom", "Identifier leak")
        showsAndRotates("flow", "zzhc.vnet.cn", "AutoRegistration", "Identifier leak", "imei", "Block the app AutoRegistration")
        showsAndRotates("alerts", "Identifier leak · AutoRegistration", "Vendor telemetry · Mi Browser")
        Settings(app).block("uid:10088")
        Settings(app).block("country:CN")
        showsAndRotates("settings", "Identifiers to watch", "App Mi Browser", "Country CN")
        showsAndRotates("exclusions", "Signal", "Firefox")
        showsAndRotates("lists", "No list imported yet")
    }

    @Test
    fun `with no history yet, every screen says so`() {
        Fixtures.emptyHistory()
        showsAndRotates("dashboard", "Not monitoring", "No history yet")
        showsAndRotates("apps", "No history yet")
        showsAndRotates("app", "No history yet")
        showsAndRotates("flow", "No history yet")
        showsAndRotates("alerts", "No history yet")
        showsAndRotates("settings", "Nothing is blocked")
    }

    @Test
    fun `system apps are marked, and hidden by the filter`() {
        Fixtures.realHistory()
        val apps = Robolectric.buildActivity(AppsActivity::class.java).setup().get()
        awaitText(apps, "Mi Browser")
        click(apps, "Hide system apps")
        await("system apps hidden") { texts(apps).takeIf { "Mi Browser" !in it && "Firefox" in it } }
        val exclusions = Robolectric.buildActivity(ExclusionsActivity::class.java).setup().get()
        awaitText(exclusions, "Signal")
        assertTrue("system apps are hidden at first", texts(exclusions).none { it.startsWith("Play Store") })
        click(exclusions, "Show system apps")
        awaitText(exclusions, "Play Store (system)")
    }

    @Test
    fun `the first start shows the explanation before anything else, once`() {
        Fixtures.realHistory()
        app.getSharedPreferences("settings", 0).edit().clear().commit()
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        assertEquals(OnboardingActivity::class.java.name, shadowOf(main).nextStartedActivity.component?.className)
        assertTrue(main.isFinishing)
        val onboarding = Robolectric.buildActivity(OnboardingActivity::class.java).setup().get()
        click(onboarding, "Continue")
        assertEquals(MainActivity::class.java.name, shadowOf(onboarding).nextStartedActivity.component?.className)
        assertTrue(Settings(app).onboarded())
        val again = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        assertTrue("no second explanation", !again.isFinishing)
    }

    @Test
    fun `every screen but the dashboard has Up, to its parent`() {
        Fixtures.realHistory()
        for ((name, screen) in screens - "dashboard" - "onboarding") {
            val activity = Robolectric.buildActivity(screen.activity, Intent(app, screen.activity).apply(screen.intent)).setup().get()
            val options = activity.actionBar?.displayOptions ?: failure("$name has no action bar")
            assertTrue("$name shows Up", options and android.app.ActionBar.DISPLAY_HOME_AS_UP != 0)
            assertTrue("$name has a parent", activity.parentActivityIntent != null)
        }
    }
}
