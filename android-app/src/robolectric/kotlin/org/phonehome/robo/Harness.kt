package org.phonehome.robo

import android.app.Activity
import android.app.Application
import android.content.pm.ApplicationInfo
import android.content.pm.PackageInfo
import android.graphics.Canvas
import android.graphics.ColorFilter
import android.graphics.Paint
import android.graphics.PixelFormat
import android.graphics.drawable.Drawable
import android.net.VpnService
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.widget.TextView
import org.junit.runners.model.FrameworkMethod
import org.phonehome.history.HistoryQueries
import org.phonehome.vpn.PhonehomeVpnService
import org.phonehome.vpn.VpnStatus
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Implementation
import org.robolectric.annotation.Implements
import org.robolectric.annotation.RealObject
import org.robolectric.shadows.ShadowVpnService
import org.robolectric.internal.bytecode.InstrumentationConfiguration
import java.io.File

/**
 * Robolectric, with JNA and the generated bindings loaded once by the JVM's own class loader: JNA's native
 * library can belong to one class loader only, and each API level runs in a class loader of its own.
 */
class PhonehomeRunner(test: Class<*>) : RobolectricTestRunner(test) {
    override fun createClassLoaderConfig(method: FrameworkMethod): InstrumentationConfiguration =
        InstrumentationConfiguration.Builder(super.createClassLoaderConfig(method))
            .doNotAcquirePackage("com.sun.jna")
            .doNotAcquirePackage("org.phonehome.core")
            .doNotAcquirePackage("org.phonehome.model")
            .doNotAcquirePackage("org.phonehome.store")
            .build()
}

/** The apps of the sample history (scripts/sample-history.py gives their uids to the sample's flows). */
data class SampleApp(val uid: Int, val packageName: String, val label: String, val system: Boolean, val color: Int)

object Fixtures {
    val apps = listOf(
        SampleApp(10057, "com.qualcomm.qti.autoregistration", "AutoRegistration", true, 0xFF5C6BC0.toInt()),
        SampleApp(10088, "com.mi.globalbrowser", "Mi Browser", true, 0xFFFF6F00.toInt()),
        SampleApp(10123, "org.mozilla.firefox", "Firefox", false, 0xFFE65100.toInt()),
        SampleApp(10145, "com.example.smarthome", "SmartHome Hub", false, 0xFF00897B.toInt()),
        SampleApp(10160, "org.thoughtcrime.securesms", "Signal", false, 0xFF3A76F0.toInt()),
        SampleApp(10171, "com.android.vending", "Play Store", true, 0xFF01875F.toInt()),
    )

    val app: Application get() = RuntimeEnvironment.getApplication()

    /** The history the engine wrote from the sample capture (scripts/robolectric.sh), as the app's own. */
    fun realHistory() {
        val source = File(System.getProperty("phonehome.fixtures") ?: failure("phonehome.fixtures not set"), "history.sqlite")
        check(source.isFile) { "no sample history at $source" }
        source.copyTo(HistoryQueries.file(app), overwrite = true)
    }

    /** A phone where nothing was recorded yet. */
    fun emptyHistory() {
        HistoryQueries.file(app).delete()
    }

    /** The sample's apps installed, with icons and uids; a fresh VPN state; the real tun and engine replaced. */
    fun phone(): FakeMonitors {
        val pm = shadowOf(app.packageManager)
        apps.forEach { sample ->
            pm.installPackage(PackageInfo().apply {
                packageName = sample.packageName
                applicationInfo = ApplicationInfo().apply {
                    packageName = sample.packageName
                    uid = sample.uid
                    flags = if (sample.system) ApplicationInfo.FLAG_SYSTEM else 0
                    nonLocalizedLabel = sample.label
                }
            })
            pm.setPackagesForUid(sample.uid, sample.packageName)
            pm.setApplicationIcon(sample.packageName, LetterIcon(sample.label.first(), sample.color))
        }
        VpnStatus.update { VpnStatus.State() }
        ShadowVpnService.setPrepareResult(null) // consented (Robolectric keeps this between tests)
        val engines = FakeMonitors()
        PhonehomeVpnService.engines = engines
        PhonehomeVpnService.tuns = engines.tuns
        return engines
    }
}

/** A launcher icon stand-in: the app's initial on a colored circle. */
class LetterIcon(private val letter: Char, private val color: Int) : Drawable() {
    private val disc = Paint(Paint.ANTI_ALIAS_FLAG).apply { this.color = this@LetterIcon.color }
    private val text = Paint(Paint.ANTI_ALIAS_FLAG).apply { this.color = 0xFFFFFFFF.toInt(); textAlign = Paint.Align.CENTER; isFakeBoldText = true }

    override fun draw(canvas: Canvas) {
        val b = bounds
        val r = minOf(b.width(), b.height()) / 2f
        canvas.drawCircle(b.exactCenterX(), b.exactCenterY(), r, disc)
        text.textSize = r
        canvas.drawText(letter.toString(), b.exactCenterX(), b.exactCenterY() + r / 3, text)
    }

    override fun getIntrinsicWidth() = 96
    override fun getIntrinsicHeight() = 96
    override fun setAlpha(alpha: Int) {}
    override fun setColorFilter(colorFilter: ColorFilter?) {}
    @Deprecated("platform API")
    override fun getOpacity() = PixelFormat.TRANSLUCENT
}

fun failure(message: String): Nothing = throw AssertionError(message)

/** Runs the main looper until [check] gives an answer (the history and lifecycle threads are real threads). */
fun <T : Any> await(what: String, timeoutMillis: Long = 15_000, check: () -> T?): T {
    val end = System.nanoTime() + timeoutMillis * 1_000_000
    while (true) {
        shadowOf(Looper.getMainLooper()).idle()
        check()?.let { return it }
        if (System.nanoTime() > end) failure("timed out waiting for $what")
        Thread.sleep(10)
    }
}

/** Lets every lifecycle task already submitted run, then what they posted to the main thread. */
fun settle() {
    PhonehomeVpnService.settled().get()
    shadowOf(Looper.getMainLooper()).idle()
}

/** Every text shown in [activity]'s window. */
fun texts(activity: Activity): List<String> = buildList { collect(activity.window.decorView) { add(it.text.toString()) } }

private fun collect(view: View, into: (TextView) -> Unit) {
    if (view is TextView && view.visibility == View.VISIBLE) into(view)
    if (view is ViewGroup) for (i in 0 until view.childCount) collect(view.getChildAt(i), into)
}

/** Waits until [activity] shows a text containing [part]. */
fun awaitText(activity: Activity, part: String) = await("\"$part\" on ${activity.javaClass.simpleName}") {
    texts(activity).firstOrNull { it.contains(part) }
}

/** Clicks the (tappable row or button holding the) text containing [part]. */
fun click(activity: Activity, part: String) {
    var target: View? = null
    collect(activity.window.decorView) { if (target == null && it.text.toString().contains(part)) target = it }
    var view: View? = target ?: failure("no \"$part\" on ${activity.javaClass.simpleName}: ${texts(activity)}")
    while (view != null && !view.isClickable) view = view.parent as? View
    (view ?: failure("\"$part\" is not tappable")).performClick()
    shadowOf(Looper.getMainLooper()).idle()
}

/**
 * `VpnService.Builder`'s address calls reach into libcore (`InetAddress.parseNumericAddress`, `RouteInfo`),
 * which the JVM under Robolectric lacks, and exclusions ask the system's package service, which it does not
 * run: here they are recorded, and an exclusion fails as the platform's does for a package not installed.
 */
@Implements(VpnService.Builder::class)
class RecordingVpnBuilder {
    @RealObject
    private lateinit var real: VpnService.Builder

    @Implementation
    fun addAddress(address: String, prefixLength: Int): VpnService.Builder = record("address $address/$prefixLength")

    @Implementation
    fun addRoute(address: String, prefixLength: Int): VpnService.Builder = record("route $address/$prefixLength")

    @Implementation
    fun addDnsServer(address: String): VpnService.Builder = record("dns $address")

    @Implementation
    fun addDisallowedApplication(packageName: String): VpnService.Builder {
        Fixtures.app.packageManager.getApplicationInfo(packageName, 0) // NameNotFoundException, as on the phone
        return record("exclude $packageName")
    }

    private fun record(what: String): VpnService.Builder {
        configured += what
        return real
    }

    companion object {
        val configured = java.util.concurrent.CopyOnWriteArrayList<String>()
    }
}
