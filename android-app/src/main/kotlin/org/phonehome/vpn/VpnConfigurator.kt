package org.phonehome.vpn

/** The calls of `VpnService.Builder` that the app makes, so the configuration is testable off the phone. */
interface TunBuilder {
    fun setSession(name: String)
    fun setMtu(mtu: Int)
    fun addAddress(address: String, prefixLength: Int)
    fun addRoute(address: String, prefixLength: Int)
    fun addDnsServer(address: String)
    fun addDisallowedApplication(packageName: String)
    /** Android 10+: tell apps the VPN is metered only when the underlying network is. */
    fun setMetered(metered: Boolean)
    /** The detached tun fd (ownership passes to the caller), or null when the user revoked consent. */
    fun establish(): Int?
}

/** Addresses and sizes of the VPN interface; the engine answers DNS sent to [virtualDns]. */
data class VpnPlan(
    val session: String = "phonehome",
    /** Far above 1500: fewer, larger packets cut the per-packet cost (peers use up to 10000). */
    val mtu: Int = 10_000,
    val address4: String = "10.215.173.1",
    val prefix4: Int = 24,
    val virtualDns: String = "10.215.173.2",
    val address6: String = "fd66:f83a:c650::1",
    val prefix6: Int = 64,
    /** Packages kept outside the VPN besides the app itself (the user's choice). */
    val excludedPackages: List<String> = emptyList(),
)

/** Applies a [VpnPlan] to a [TunBuilder]: both address families, default routes, DNS, exclusions. */
class VpnConfigurator(private val plan: VpnPlan) {
    /** Configures [builder] and establishes the interface; [ownPackage] never goes through the VPN. */
    fun establish(builder: TunBuilder, ownPackage: String, sdkInt: Int): Int? {
        require(plan.mtu in MIN_MTU..MAX_MTU) { "MTU ${plan.mtu} out of $MIN_MTU..$MAX_MTU" }
        builder.setSession(plan.session)
        builder.setMtu(plan.mtu)
        builder.addAddress(plan.address4, plan.prefix4)
        builder.addRoute("0.0.0.0", 0)
        builder.addAddress(plan.address6, plan.prefix6)
        builder.addRoute("::", 0)
        builder.addDnsServer(plan.virtualDns)
        // The engine's own sockets are protected too; excluding the app also keeps its UI traffic out.
        (listOf(ownPackage) + plan.excludedPackages).distinct().forEach(builder::addDisallowedApplication)
        if (sdkInt >= Q) builder.setMetered(false)
        return builder.establish()
    }

    companion object {
        /** IPv6 needs 1280; a tun above 65535 cannot carry its packets. */
        const val MIN_MTU = 1280
        const val MAX_MTU = 65_535
        /** Android 10. */
        const val Q = 29
    }
}
