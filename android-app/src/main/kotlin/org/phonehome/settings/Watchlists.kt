package org.phonehome.settings

/** Builds the engine's identifier TOML and parses the user's watched countries. */
object Watchlists {
    /** Keys the engine knows; any other key is a custom identifier. */
    val BUILT_IN_KEYS = listOf("imei", "imsi", "iccid", "phone", "mac", "bssid", "android_id", "ad_id", "serial", "email")

    /** `key = ["v1", "v2"]` lines for every non-blank value, keys and values escaped for TOML. */
    fun identifiersToml(values: Map<String, List<String>>): String? {
        val lines = values.entries.sortedBy { it.key }.mapNotNull { (key, list) ->
            val kept = list.map(String::trim).filter(String::isNotEmpty).distinct()
            if (kept.isEmpty()) null else "${quote(key)} = [${kept.joinToString(", ", transform = ::quote)}]"
        }
        return if (lines.isEmpty()) null else lines.joinToString("\n", postfix = "\n")
    }

    /** "cn, ru;IR" → [CN, IR, RU]; null when any entry is not two letters. */
    fun parseCountries(text: String): List<String>? {
        val codes = text.split(',', ';', ' ', '\n').map(String::trim).filter(String::isNotEmpty)
        if (codes.any { code -> code.length != 2 || !code.all { it in 'a'..'z' || it in 'A'..'Z' } }) return null
        return codes.map(String::uppercase).distinct().sorted()
    }

    /** A TOML basic string: quotes, backslashes and control characters escaped. */
    fun quote(text: String): String = buildString {
        append('"')
        for (c in text) when {
            c == '"' -> append("\\\"")
            c == '\\' -> append("\\\\")
            c < ' ' || c == '\u007f' -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
        append('"')
    }
}
