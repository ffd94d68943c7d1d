package org.phonehome.alerts

/** Masks identifier-shaped text before it reaches a notification (the lock screen shows it). */
object Redactor {
    private val patterns = listOf(
        Regex("""[\w.+-]+@[\w-]+(\.[\w-]+)+"""), // e-mail addresses
        Regex("""\b[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}\b"""), // MAC and BSSID
        Regex("""\b[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\b"""), // ad ids
        Regex("""\+?\d[\d ]{5,}\d"""), // IMEI, IMSI, ICCID, phone numbers, serials of digits
        Regex("""\b[0-9A-Fa-f]{12,}\b"""), // Android ids, hashes, hex serials
    )

    /** [text] with every identifier-shaped run replaced by its first two characters and `…`. */
    fun redact(text: String): String = patterns.fold(text) { acc, pattern ->
        pattern.replace(acc) { match -> match.value.take(2) + "…" }
    }
}
