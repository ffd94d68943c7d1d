package org.phonehome.ui

import android.content.Context
import org.phonehome.R

/** Alert kinds in words. */
object AlertText {
    fun kind(context: Context, kind: String): String = when (kind) {
        "identifier_leak" -> context.getString(R.string.kind_identifier_leak)
        "vendor_telemetry" -> context.getString(R.string.kind_vendor_telemetry)
        "tracker" -> context.getString(R.string.kind_tracker)
        "watched_country" -> context.getString(R.string.kind_watched_country)
        "watched_network" -> context.getString(R.string.kind_watched_network)
        "watched_domain_owner" -> context.getString(R.string.kind_watched_domain_owner)
        "cleartext_http" -> context.getString(R.string.kind_cleartext_http)
        "tls_without_sni" -> context.getString(R.string.kind_tls_without_sni)
        "government_domain" -> context.getString(R.string.kind_government_domain)
        "new_destination" -> context.getString(R.string.kind_new_destination)
        else -> kind.replace('_', ' ').replaceFirstChar { it.uppercase() }
    }
}
