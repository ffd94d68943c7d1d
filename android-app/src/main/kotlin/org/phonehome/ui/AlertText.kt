package org.phonehome.ui

import android.content.Context
import org.phonehome.R
import org.phonehome.model.AlertKind

/** Alert kinds in words. */
object AlertText {
    fun kind(context: Context, kind: AlertKind): String = when (kind) {
        AlertKind.IDENTIFIER_LEAK -> context.getString(R.string.kind_identifier_leak)
        AlertKind.VENDOR_TELEMETRY -> context.getString(R.string.kind_vendor_telemetry)
        AlertKind.TRACKER -> context.getString(R.string.kind_tracker)
        AlertKind.WATCHED_COUNTRY -> context.getString(R.string.kind_watched_country)
        AlertKind.WATCHED_NETWORK -> context.getString(R.string.kind_watched_network)
        AlertKind.WATCHED_DOMAIN_OWNER -> context.getString(R.string.kind_watched_domain_owner)
        AlertKind.CLEARTEXT_HTTP -> context.getString(R.string.kind_cleartext_http)
        AlertKind.TLS_WITHOUT_SNI -> context.getString(R.string.kind_tls_without_sni)
        AlertKind.GOVERNMENT_DOMAIN -> context.getString(R.string.kind_government_domain)
        AlertKind.NEW_DESTINATION -> context.getString(R.string.kind_new_destination)
        else -> kind.name.lowercase().replace('_', ' ').replaceFirstChar { it.uppercase() }
    }
}
