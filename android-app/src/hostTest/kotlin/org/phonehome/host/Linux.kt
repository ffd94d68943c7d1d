package org.phonehome.host

import com.sun.jna.Library
import com.sun.jna.Native
import org.phonehome.vpn.TunBuilder
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit

/** The few libc calls the host test makes through JNA (the bindings' own FFI library). */
@Suppress("FunctionName")
interface LibC : Library {
    fun geteuid(): Int
    fun open(path: String, flags: Int, mode: Int): Int
    fun close(fd: Int): Int
    fun setns(fd: Int, nstype: Int): Int
    fun ioctl(fd: Int, request: Long, argument: ByteArray): Int
    fun setsockopt(fd: Int, level: Int, name: Int, value: IntArray, length: Int): Int

    companion object {
        val C: LibC = Native.load("c", LibC::class.java)
        const val O_RDONLY = 0
        const val O_RDWR = 2
        const val O_WRONLY = 1
        const val O_CREAT = 0x40
        const val O_TRUNC = 0x200
        const val CLONE_NEWNET = 0x40000000
        const val TUNSETIFF = 0x400454caL
        const val IFF_TUN = 0x0001
        const val IFF_NO_PI = 0x1000
        const val SOL_SOCKET = 1
        const val SO_MARK = 36
    }
}

/** Runs `ip`, failing with its error output. */
fun ip(vararg args: String) {
    val process = ProcessBuilder(listOf("ip") + args).redirectErrorStream(true).start()
    val output = process.inputStream.bufferedReader().readText()
    check(process.waitFor() == 0) { "ip ${args.joinToString(" ")}: $output" }
}

/** Runs [block] on a fresh thread moved into network namespace [ns] (a thread, not the process, moves). */
fun <T> inNamespace(ns: String, block: () -> T): T {
    val executor = Executors.newSingleThreadExecutor()
    try {
        return executor.submit(Callable { enterNamespace(ns); block() }).get(60, TimeUnit.SECONDS)
    } finally {
        executor.shutdown()
    }
}

/** Moves the calling thread into [ns]; the threads it starts afterwards stay there too. */
fun enterNamespace(ns: String) {
    val fd = LibC.C.open("/run/netns/$ns", LibC.O_RDONLY, 0)
    check(fd >= 0) { "open /run/netns/$ns" }
    try {
        check(LibC.C.setns(fd, LibC.CLONE_NEWNET) == 0) { "setns $ns" }
    } finally {
        LibC.C.close(fd)
    }
}

/**
 * [TunBuilder] on Linux: what `VpnService.Builder` does on the phone, done with a TUN device and `ip` in
 * namespace [ns]. [establish] must run on a thread inside [ns].
 */
class LinuxTunBuilder(private val ns: String, private val name: String = "tun0") : TunBuilder {
    private val commands = mutableListOf<List<String>>()
    val dnsServers = mutableListOf<String>()
    val excluded = mutableListOf<String>()

    override fun setSession(name: String) {}
    override fun setMtu(mtu: Int) { commands += listOf("link", "set", name, "mtu", "$mtu") }
    override fun addAddress(address: String, prefixLength: Int) {
        commands += listOf(if (':' in address) "-6" else "-4", "addr", "add", "$address/$prefixLength", "dev", name) +
            if (':' in address) listOf("nodad") else emptyList()
    }
    override fun addRoute(address: String, prefixLength: Int) {
        commands += listOf(if (':' in address) "-6" else "-4", "route", "add", "$address/$prefixLength", "dev", name)
    }
    override fun addDnsServer(address: String) { dnsServers += address }
    override fun addDisallowedApplication(packageName: String) { excluded += packageName }
    override fun setMetered(metered: Boolean) {}

    override fun establish(): Int {
        val fd = LibC.C.open("/dev/net/tun", LibC.O_RDWR, 0)
        check(fd >= 0) { "open /dev/net/tun" }
        val request = ByteArray(40)
        name.toByteArray().copyInto(request)
        val flags = LibC.IFF_TUN or LibC.IFF_NO_PI
        request[16] = (flags and 0xff).toByte()
        request[17] = (flags shr 8).toByte()
        check(LibC.C.ioctl(fd, LibC.TUNSETIFF, request) == 0) { "TUNSETIFF" }
        // Addresses before the link comes up, routes after: the order Android applies them in.
        val (routes, rest) = commands.partition { "route" in it }
        rest.forEach { ip("-n", ns, *it.toTypedArray()) }
        ip("-n", ns, "link", "set", name, "up")
        routes.forEach { ip("-n", ns, *it.toTypedArray()) }
        return fd
    }
}
