package org.phonehome.settings

/** The saved block rules, sorted by kind for the engine's configuration. */
data class BlockList(
    val apps: List<UInt> = emptyList(),
    val domains: List<String> = emptyList(),
    val countries: List<String> = emptyList(),
    val networks: List<String> = emptyList(),
) {
    companion object {
        /** `uid:10123`, `domain:x.example`, `country:CN`, `ip:192.0.2.1` (or a CIDR); others are skipped, so a stale rule never stops the VPN. */
        fun parse(rules: Collection<String>): BlockList {
            val byKind = rules.sorted().mapNotNull { rule ->
                val kind = rule.substringBefore(':', "")
                val value = rule.substringAfter(':', "").trim()
                if (kind.isEmpty() || value.isEmpty()) null else kind to value
            }.groupBy({ it.first }, { it.second })
            return BlockList(
                apps = byKind["uid"].orEmpty().mapNotNull(String::toUIntOrNull),
                domains = byKind["domain"].orEmpty(),
                countries = byKind["country"].orEmpty().filter { it.length == 2 }.map(String::uppercase),
                networks = byKind["ip"].orEmpty(),
            )
        }
    }
}
