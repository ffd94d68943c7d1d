package org.phonehome.apps

import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test

class FakePackages(private val byUid: Map<Int, List<PackageFacts>>) : PackageLookup {
    var calls = 0
    override fun packagesForUid(uid: Int): List<String> {
        calls++
        return byUid[uid].orEmpty().map { it.packageName }
    }
    override fun facts(packageName: String) = byUid.values.flatten().firstOrNull { it.packageName == packageName }
}

class UidNamerTest {
    private val packages = FakePackages(
        mapOf(
            10123 to listOf(PackageFacts("com.example.browser", "Browser", false)),
            1000 to listOf(
                PackageFacts("com.android.settings", "Settings", true),
                PackageFacts("android", "Android System", true),
            ),
            10200 to listOf(PackageFacts("com.qualcomm.qti.autoregistration", "AutoRegistration", true)),
            1010123 to listOf(PackageFacts("com.example.browser", "Browser", false)),
        ),
    )

    @Test
    fun `a user app is named by its label`() {
        val app = UidNamer(packages).identify(10123)
        assertEquals("Browser", app.label)
        assertFalse(app.system)
        assertFalse(app.shared)
    }

    @Test
    fun `a shared uid is shown as shared, with all its packages`() {
        val app = UidNamer(packages).identify(1000)
        assertEquals("Android system (shared by 2 packages)", app.label)
        assertEquals(listOf("android", "com.android.settings"), app.packages)
        assertTrue(app.shared)
        assertTrue(app.system)
    }

    @Test
    fun `a preinstalled app above the system range is marked system by its flags`() {
        assertTrue(UidNamer(packages).identify(10200).system)
    }

    @Test
    fun `daemons without packages get their well-known names, others their number`() {
        val namer = UidNamer(packages)
        assertEquals("DNS resolver (netd)", namer.identify(1051).label)
        assertEquals("uid 4242", namer.identify(4242).label)
        assertTrue(namer.identify(4242).system)
        assertFalse(namer.identify(10999).system)
    }

    @Test
    fun `a work-profile uid keeps its app's label and system status`() {
        val app = UidNamer(packages).identify(1010123)
        assertEquals("Browser", app.label)
        assertFalse(app.system)
    }

    @Test
    fun `names are cached, within a bounded cache`() {
        val namer = UidNamer(packages, capacity = 2)
        namer.identify(10123); namer.identify(10123)
        assertEquals(1, packages.calls)
        namer.identify(1000); namer.identify(10200); namer.identify(10123)
        assertEquals(4, packages.calls)
        namer.invalidate(); namer.identify(10200)
        assertEquals(5, packages.calls)
    }
}
