package org.phonehome.apps

/** What the package manager says about one package. */
data class PackageFacts(val packageName: String, val label: String, val system: Boolean)

/** The package manager's answers, behind an interface so the naming logic runs on the JVM. */
interface PackageLookup {
    /** Every package running as [uid] (several for a shared uid, none for system daemons). */
    fun packagesForUid(uid: Int): List<String>
    fun facts(packageName: String): PackageFacts?
}

/** An app as the UI shows it: one uid, its packages, a label, and whether it ships with the system. */
data class AppIdentity(val uid: Int, val label: String, val packages: List<String>, val system: Boolean) {
    /** Several packages share this uid: traffic cannot be split between them. */
    val shared: Boolean get() = packages.size > 1
}

/** uid → packages → label, with a bounded cache (the package manager is a binder call). */
class UidNamer(private val lookup: PackageLookup, private val capacity: Int = 512) {
    private val cache = object : LinkedHashMap<Int, AppIdentity>(16, 0.75f, true) {
        override fun removeEldestEntry(eldest: MutableMap.MutableEntry<Int, AppIdentity>) = size > capacity
    }

    /** The identity of [uid]; never fails (unknown uids are named by number). */
    @Synchronized
    fun identify(uid: Int): AppIdentity = cache.getOrPut(uid) { lookUp(uid) }

    /** Forgets cached names, e.g. after a package was installed or removed. */
    @Synchronized
    fun invalidate() = cache.clear()

    private fun lookUp(uid: Int): AppIdentity {
        val facts = lookup.packagesForUid(uid).sorted().map { lookup.facts(it) ?: PackageFacts(it, it, false) }
        val appId = uid % PER_USER_RANGE
        val system = appId < FIRST_APPLICATION_UID || facts.any { it.system }
        val label = when {
            facts.isEmpty() -> WELL_KNOWN[appId] ?: "uid $uid"
            facts.size == 1 -> facts.first().label
            else -> sharedLabel(appId, facts)
        }
        return AppIdentity(uid, label, facts.map { it.packageName }, system)
    }

    private fun sharedLabel(appId: Int, facts: List<PackageFacts>): String {
        val named = WELL_KNOWN[appId] ?: facts.first().label
        return "$named (shared by ${facts.size} packages)"
    }

    companion object {
        /** Android's uid layout: user × 100000 + app id; app ids below 10000 are the system's. */
        const val PER_USER_RANGE = 100_000
        const val FIRST_APPLICATION_UID = 10_000
        private val WELL_KNOWN = mapOf(
            0 to "root",
            1000 to "Android system",
            1001 to "Telephony (radio)",
            1013 to "Media server",
            1051 to "DNS resolver (netd)",
            1073 to "Network stack",
            9999 to "nobody",
        )
    }
}
