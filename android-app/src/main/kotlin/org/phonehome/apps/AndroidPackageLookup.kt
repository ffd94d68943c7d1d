package org.phonehome.apps

import android.content.pm.ApplicationInfo
import android.content.pm.PackageManager

/** [PackageLookup] over the platform's `PackageManager`. */
class AndroidPackageLookup(private val pm: PackageManager) : PackageLookup {
    override fun packagesForUid(uid: Int): List<String> = pm.getPackagesForUid(uid)?.toList() ?: emptyList()

    override fun facts(packageName: String): PackageFacts? = try {
        val info = pm.getApplicationInfo(packageName, 0)
        val system = info.flags and (ApplicationInfo.FLAG_SYSTEM or ApplicationInfo.FLAG_UPDATED_SYSTEM_APP) != 0
        PackageFacts(packageName, info.loadLabel(pm).toString(), system)
    } catch (_: PackageManager.NameNotFoundException) {
        null
    }
}
