package org.phonehome.robo

import android.app.Activity
import android.content.ContentProvider
import android.content.ContentValues
import android.content.Intent
import android.content.pm.ProviderInfo
import android.database.Cursor
import android.net.Uri
import android.os.ParcelFileDescriptor
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.phonehome.R
import org.phonehome.settings.Settings
import org.phonehome.ui.MainActivity
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowToast
import java.io.File
import java.io.FileNotFoundException

/** A document provider writing to a file; [acceptsWt] false plays the providers that refuse mode "wt". */
open class DocumentsStandIn(private val acceptsWt: Boolean) : ContentProvider() {
    val file: File get() = File(context!!.cacheDir, "picked-document")
    override fun onCreate() = true
    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        if (mode == "wt" && !acceptsWt) throw FileNotFoundException("Unsupported mode: wt")
        return ParcelFileDescriptor.open(file, ParcelFileDescriptor.parseMode(mode))
    }
    override fun query(uri: Uri, p: Array<out String>?, s: String?, a: Array<out String>?, o: String?): Cursor? = null
    override fun getType(uri: Uri): String? = null
    override fun insert(uri: Uri, values: ContentValues?): Uri? = null
    override fun delete(uri: Uri, s: String?, a: Array<out String>?) = 0
    override fun update(uri: Uri, v: ContentValues?, s: String?, a: Array<out String>?) = 0
}

class Documents : DocumentsStandIn(acceptsWt = true)
class PickyDocuments : DocumentsStandIn(acceptsWt = false)

/** Saving through the Storage Access Framework and sharing: the CSV of the whole history reaches the other side. */
@RunWith(PhonehomeRunner::class)
@Config(sdk = [24, 29, 33, 36])
class ExportTest {
    private val app get() = Fixtures.app

    @Before
    fun phone() {
        Fixtures.phone()
        Fixtures.realHistory()
        Settings(app).setOnboarded()
    }

    private fun saveFlowsInto(provider: DocumentsStandIn, authority: String): String {
        Robolectric.buildContentProvider(provider.javaClass).create(ProviderInfo().apply { this.authority = authority })
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        click(main, "Save flows (CSV)")
        val picker = shadowOf(main).nextStartedActivityForResult ?: failure("no document picker")
        assertEquals(Intent.ACTION_CREATE_DOCUMENT, picker.intent.action)
        assertEquals("text/csv", picker.intent.type)
        shadowOf(main).receiveResult(picker.intent, Activity.RESULT_OK, Intent().setData(Uri.parse("content://$authority/doc")))
        val toast = await("the export's toast") { ShadowToast.getTextOfLatestToast()?.takeIf { it.startsWith("Exported") } }
        assertEquals(app.getString(R.string.exported_rows, 11), toast)
        return File(app.cacheDir, "picked-document").readText()
    }

    @Test
    fun `flows saved to a picked document`() {
        val csv = saveFlowsInto(Documents(), "test.documents")
        assertTrue(csv.lines().first(), csv.startsWith("first_seen,"))
        assertTrue(csv.contains("zzhc.vnet.cn"))
        assertEquals(12, csv.trimEnd().lines().size)
    }

    @Test
    fun `a provider that refuses mode wt still gets the document`() {
        val csv = saveFlowsInto(PickyDocuments(), "test.picky")
        assertTrue(csv.contains("zzhc.vnet.cn"))
    }

    @Test
    fun `share hands a readable copy to the chosen app`() {
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        click(main, "Share flows (CSV)")
        val chooser = await("the share sheet") { shadowOf(main).nextStartedActivity }
        assertEquals(Intent.ACTION_CHOOSER, chooser.action)
        @Suppress("DEPRECATION")
        val send = chooser.getParcelableExtra<Intent>(Intent.EXTRA_INTENT) ?: failure("no send intent")
        @Suppress("DEPRECATION")
        val uri = send.getParcelableExtra<Uri>(Intent.EXTRA_STREAM) ?: failure("no stream")
        assertEquals("org.phonehome.exports", uri.authority)
        assertTrue(send.flags and Intent.FLAG_GRANT_READ_URI_PERMISSION != 0)
        Robolectric.buildContentProvider(org.phonehome.export.ExportProvider::class.java)
            .create(ProviderInfo().apply { authority = "org.phonehome.exports" })
        val csv = app.contentResolver.openInputStream(uri)!!.use { it.readBytes().decodeToString() }
        assertTrue(csv.contains("zzhc.vnet.cn"))
    }

    @Test
    fun `no document picker on the phone is said, not a crash`() {
        shadowOf(app).checkActivities(true)
        val main = Robolectric.buildActivity(MainActivity::class.java).setup().get()
        click(main, "Save flows (CSV)")
        assertEquals(app.getString(R.string.no_activity), ShadowToast.getTextOfLatestToast())
    }
}
