package org.phonehome.ui

import android.content.Context
import android.graphics.drawable.Drawable
import org.phonehome.R
import org.phonehome.apps.AndroidPackageLookup
import org.phonehome.apps.AppIdentity
import org.phonehome.apps.UidNamer

/** Apps as the lists show them: label, icon, and the chips that mark system apps and shared uids. */
class AppLooks(private val context: Context) {
    private val namer = UidNamer(AndroidPackageLookup(context.packageManager))
    private val icons = HashMap<Int, Drawable>()

    /** The app of [uid]; without one, [fallback] (the name the history kept) or "Unknown app". */
    fun identity(uid: Int?, fallback: String? = null): AppIdentity =
        uid?.takeIf { it >= 0 }?.let(namer::identify)
            ?: AppIdentity(-1, fallback ?: context.getString(R.string.unknown_app), emptyList(), false)

    /** The app's launcher icon, or the generic one (system daemons, unknown owners). Binder calls: not on the UI thread. */
    @Synchronized
    fun icon(identity: AppIdentity): Drawable? = icons.getOrPut(identity.uid) {
        identity.packages.firstNotNullOfOrNull { runCatching { context.packageManager.getApplicationIcon(it) }.getOrNull() }
            ?: Widgets.symbol(context, R.drawable.ic_app_default) ?: return null
    }

    fun chips(identity: AppIdentity): List<Chip> = listOfNotNull(
        Widgets.tagChip(context, context.getString(R.string.tag_system)).takeIf { identity.system },
        Widgets.tagChip(context, context.getString(R.string.tag_shared)).takeIf { identity.shared },
    )

    /** The package names, or the uid for apps without one. */
    fun subtitle(identity: AppIdentity): String = when {
        identity.packages.isNotEmpty() -> identity.packages.joinToString(", ")
        identity.uid >= 0 -> context.getString(R.string.uid_label, identity.uid)
        else -> context.getString(R.string.no_owner)
    }
}
