package org.phonehome.ui

import android.app.Activity
import android.content.Intent
import android.view.View
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ScrollView
import android.widget.TextView
import org.phonehome.R
import org.phonehome.core.Monitor
import org.phonehome.core.HistoryException
import org.phonehome.core.HistoryReaderInterface
import org.phonehome.history.HistoryQueries
import org.phonehome.history.Timeline
import org.phonehome.vpn.PhonehomeVpnService

/** Small builders for the platform views the screens are made of (no AndroidX, no layouts to inflate). */
object Ui {
    fun page(activity: Activity, build: LinearLayout.() -> Unit): LinearLayout {
        val column = LinearLayout(activity).apply {
            orientation = LinearLayout.VERTICAL
            val pad = dp(activity, 16)
            setPadding(pad, pad, pad, pad)
            build()
        }
        activity.setContentView(ScrollView(activity).apply { addView(column) })
        return column
    }

    fun LinearLayout.heading(text: CharSequence): TextView = text(text, R.style.TextAppearance_Phonehome_Heading)

    fun LinearLayout.text(text: CharSequence, style: Int = R.style.TextAppearance_Phonehome_Body): TextView =
        TextView(context).also {
            it.setTextAppearance(style)
            it.text = text
            it.setTextIsSelectable(true)
            addView(it)
        }

    fun LinearLayout.button(label: CharSequence, onClick: () -> Unit): Button =
        Button(context).also {
            it.text = label
            it.setOnClickListener { onClick() }
            addView(it)
        }

    /** A tappable row of two lines. */
    fun LinearLayout.row(title: CharSequence, detail: CharSequence, onClick: (() -> Unit)?): View {
        val row = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            val pad = dp(context as Activity, 8)
            setPadding(0, pad, 0, pad)
            addView(TextView(context).apply { setTextAppearance(R.style.TextAppearance_Phonehome_Title); text = title })
            addView(TextView(context).apply { setTextAppearance(R.style.TextAppearance_Phonehome_Body); text = detail })
            if (onClick != null) {
                isClickable = true
                setOnClickListener { onClick() }
            }
        }
        addView(row)
        return row
    }

    fun dp(activity: Activity, value: Int) = (value * activity.resources.displayMetrics.density).toInt()

    /** The engine of the current or last run, or null before the first start. */
    fun engine(): Monitor? = PhonehomeVpnService.running

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

    fun open(activity: Activity, target: Class<out Activity>, extras: Intent.() -> Unit = {}) =
        activity.startActivity(Intent(activity, target).apply(extras))
}
