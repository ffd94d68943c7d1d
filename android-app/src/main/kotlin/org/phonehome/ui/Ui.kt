package org.phonehome.ui

import android.app.Activity
import android.content.ActivityNotFoundException
import android.content.Intent
import android.view.View
import android.view.ViewGroup
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.Toast
import org.phonehome.R
import org.phonehome.compat.Platform
import org.phonehome.core.HistoryException
import org.phonehome.core.HistoryReaderInterface
import org.phonehome.history.HistoryQueries
import org.phonehome.history.Timeline
import org.phonehome.ui.Widgets.text

/** The frame of every screen (no AndroidX, no layouts to inflate), loading, and formatting. */
object Ui {
    /**
     * Makes [build]'s column the whole screen: scrollable, padded clear of the system bars (Android 15 draws
     * apps edge to edge), with Up in the action bar on every screen but the dashboard.
     */
    fun page(activity: Activity, build: LinearLayout.() -> Unit): LinearLayout {
        val column = LinearLayout(activity).apply {
            orientation = LinearLayout.VERTICAL
            // The column takes the first focus: no field opens the keyboard, no button scrolls the page, at start.
            isFocusableInTouchMode = true
            descendantFocusability = ViewGroup.FOCUS_BEFORE_DESCENDANTS
            val pad = dp(activity, 12)
            setPadding(pad, pad, pad, pad)
            build()
        }
        val scroll = ScrollView(activity).apply {
            isFillViewport = true
            clipToPadding = false
            addView(column, ViewGroup.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT))
        }
        activity.setContentView(scroll)
        clearOfSystemBars(scroll)
        if (activity !is MainActivity) activity.actionBar?.setDisplayHomeAsUpEnabled(true)
        return column
    }

    /**
     * Pads [view] by the insets of what Android draws over it: the system bars and, edge to edge (targetSdk 35+
     * on Android 15+), the action bar, whose height the framework adds to the top inset it hands the content.
     */
    fun clearOfSystemBars(view: View) {
        view.setOnApplyWindowInsetsListener { target, insets ->
            val bars = Platform.systemBars(insets)
            target.setPadding(bars.left, bars.top, bars.right, bars.bottom)
            insets
        }
        view.requestApplyInsets()
    }

    fun dp(activity: Activity, value: Int) = (value * activity.resources.displayMetrics.density).toInt()

    /**
     * Reads the history off the UI thread and hands the answer to [show] on it, unless the screen is gone by
     * then; a history that cannot be read is explained through [explain] (by default, as the whole screen).
     */
    fun <T> load(
        activity: Activity,
        query: (HistoryReaderInterface) -> T,
        explain: (String) -> Unit = { message -> page(activity) { text(message) } },
        show: (T) -> Unit,
    ) = HistoryQueries.of(activity).load(query) { result ->
        if (!activity.isFinishing && !activity.isDestroyed) result.fold(show) { error -> explain(problem(activity, error)) }
    }

    /** Why the history could not be read, for the user. */
    fun problem(activity: Activity, error: Throwable): String = when (error) {
        is HistoryException.Missing -> activity.getString(R.string.no_history)
        is HistoryException.TooNew -> activity.getString(R.string.history_too_new)
        is HistoryException.Unreadable -> activity.getString(R.string.history_unreadable, error.reason)
        is HistoryException.Query -> activity.getString(R.string.history_unreadable, error.reason)
        else -> activity.getString(R.string.history_unreadable, error.toString())
    }

    /** A moment of the history (microseconds since the epoch) in local time. */
    fun time(us: Long): String = Timeline.timeLabel(us)

    fun bytes(n: Long): String = when {
        n >= 1 shl 30 -> "%.1f GiB".format(n / (1 shl 30).toDouble())
        n >= 1 shl 20 -> "%.1f MiB".format(n / (1 shl 20).toDouble())
        n >= 1 shl 10 -> "%.1f KiB".format(n / (1 shl 10).toDouble())
        else -> "$n B"
    }

    /** "1 flow", "2 flows": a count with its plural. */
    fun count(activity: Activity, plural: Int, n: Long): String =
        activity.resources.getQuantityString(plural, n.coerceAtMost(Int.MAX_VALUE.toLong()).toInt(), n)

    fun open(activity: Activity, target: Class<out Activity>, extras: Intent.() -> Unit = {}) =
        activity.startActivity(Intent(activity, target).apply(extras))

    /** Starts [intent]; a system screen missing on this device (some vendors remove them) is said, not a crash. */
    fun launch(activity: Activity, intent: Intent, requestCode: Int? = null): Boolean = try {
        if (requestCode == null) activity.startActivity(intent) else activity.startActivityForResult(intent, requestCode)
        true
    } catch (_: ActivityNotFoundException) {
        Toast.makeText(activity, R.string.no_activity, Toast.LENGTH_LONG).show()
        false
    }
}
