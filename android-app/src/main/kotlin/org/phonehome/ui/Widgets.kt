package org.phonehome.ui

import android.content.Context
import android.graphics.drawable.Drawable
import android.graphics.drawable.GradientDrawable
import android.text.Editable
import android.text.TextUtils
import android.text.TextWatcher
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.FrameLayout
import android.widget.HorizontalScrollView
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.Switch
import android.widget.TextView
import org.phonehome.R
import org.phonehome.model.Severity

/** A label on a row: a severity, "system", "shared uid"... in its color. */
data class Chip(val text: String, val color: Int)

/** The views the screens are built of: sections, cards, list rows with icons and chips, buttons, fields. */
object Widgets {
    private fun Context.px(dp: Int) = (dp * resources.displayMetrics.density).toInt()
    private fun Context.color(id: Int) = getColor(id)

    private val MATCH_WRAP get() = LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT)

    fun LinearLayout.heading(text: CharSequence): TextView = text(text, R.style.TextAppearance_Phonehome_Heading).also {
        it.setPadding(context.px(4), context.px(8), context.px(4), context.px(4))
    }

    /** A section title above a card, in the accent color. */
    fun LinearLayout.section(text: CharSequence): TextView = text(text, R.style.TextAppearance_Phonehome_Section).also {
        it.setPadding(context.px(8), context.px(16), context.px(8), context.px(6))
        it.setTextIsSelectable(false)
    }

    fun LinearLayout.text(text: CharSequence, style: Int = R.style.TextAppearance_Phonehome_Body): TextView =
        TextView(context).also {
            it.setTextAppearance(style)
            it.text = text
            it.setTextIsSelectable(true)
            it.setPadding(context.px(4), context.px(2), context.px(4), context.px(2))
            addView(it, MATCH_WRAP)
        }

    /** Secondary text inside a card, padded like its rows. */
    fun LinearLayout.note(text: CharSequence): TextView = text(text, R.style.TextAppearance_Phonehome_Secondary).also {
        it.setPadding(context.px(16), context.px(8), context.px(16), context.px(8))
    }

    /** A rounded surface holding [build]'s views; [tint] colors it (warnings). */
    fun LinearLayout.card(tint: Int = R.color.card, build: LinearLayout.() -> Unit): LinearLayout {
        val card = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            background = GradientDrawable().apply {
                cornerRadius = context.px(12).toFloat()
                setColor(context.color(tint))
                setStroke(context.px(1), context.color(R.color.card_stroke))
            }
            setPadding(0, context.px(4), 0, context.px(4))
            build()
        }
        addView(card, MATCH_WRAP.apply { setMargins(0, context.px(4), 0, context.px(8)) })
        return card
    }

    /** The system's touch feedback for tappable rows. */
    private fun View.ripple() {
        val attrs = context.obtainStyledAttributes(intArrayOf(android.R.attr.selectableItemBackground))
        background = attrs.getDrawable(0)
        attrs.recycle()
    }

    /**
     * A list row: an icon (an app's, or a symbol tinted like text), a title, a secondary line of at most
     * [lines] lines, chips, and a trailing value; tappable when [onClick] is given.
     */
    fun LinearLayout.listRow(
        title: CharSequence,
        detail: CharSequence? = null,
        icon: Drawable? = null,
        chips: List<Chip> = emptyList(),
        trailing: CharSequence? = null,
        lines: Int = 2,
        onClick: (() -> Unit)? = null,
    ): View {
        val row = LinearLayout(context).apply {
            orientation = LinearLayout.HORIZONTAL
            gravity = Gravity.CENTER_VERTICAL
            minimumHeight = context.px(56)
            setPadding(context.px(16), context.px(10), context.px(16), context.px(10))
        }
        icon?.let {
            row.addView(ImageView(context).apply { setImageDrawable(it); scaleType = ImageView.ScaleType.FIT_CENTER },
                LinearLayout.LayoutParams(context.px(40), context.px(40)).apply { marginEnd = context.px(16) })
        }
        val column = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
        column.addView(TextView(context).apply {
            setTextAppearance(R.style.TextAppearance_Phonehome_Title)
            text = title
            maxLines = 2
            ellipsize = TextUtils.TruncateAt.END
        })
        if (!detail.isNullOrEmpty()) {
            column.addView(TextView(context).apply {
                setTextAppearance(R.style.TextAppearance_Phonehome_Secondary)
                text = detail
                maxLines = lines
                ellipsize = TextUtils.TruncateAt.END
            })
        }
        if (chips.isNotEmpty()) column.addView(chipRow(context, chips))
        row.addView(column, LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f))
        trailing?.let {
            row.addView(TextView(context).apply {
                setTextAppearance(R.style.TextAppearance_Phonehome_Caption)
                text = it
                gravity = Gravity.END
                setPadding(context.px(8), 0, 0, 0)
            })
        }
        if (onClick != null) {
            row.isClickable = true
            row.ripple()
            row.setOnClickListener { onClick() }
        }
        addView(row, MATCH_WRAP)
        return row
    }

    private fun chipRow(context: Context, chips: List<Chip>) = LinearLayout(context).apply {
        orientation = LinearLayout.HORIZONTAL
        setPadding(0, context.px(4), 0, 0)
        chips.forEach { addView(chip(context, it), LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply { marginEnd = context.px(6) }) }
    }

    fun chip(context: Context, chip: Chip): TextView = TextView(context).apply {
        setTextAppearance(R.style.TextAppearance_Phonehome_Chip)
        text = chip.text
        background = GradientDrawable().apply {
            cornerRadius = context.px(10).toFloat()
            setColor(chip.color)
        }
        setPadding(context.px(8), context.px(2), context.px(8), context.px(2))
    }

    fun severityChip(context: Context, severity: Severity): Chip = Chip(
        context.getString(when (severity) {
            Severity.HIGH -> R.string.severity_high
            Severity.MEDIUM -> R.string.severity_medium
            Severity.LOW -> R.string.severity_low
            Severity.INFO -> R.string.severity_info
        }),
        context.color(when (severity) {
            Severity.HIGH -> R.color.severity_high
            Severity.MEDIUM -> R.color.severity_medium
            Severity.LOW -> R.color.severity_low
            Severity.INFO -> R.color.severity_info
        }),
    )

    fun tagChip(context: Context, text: String) = Chip(text, context.color(R.color.tag))

    /** A symbol from res/drawable, tinted like text. */
    fun symbol(context: Context, id: Int): Drawable? = context.getDrawable(id)

    fun LinearLayout.button(label: CharSequence, onClick: () -> Unit): Button = Button(context).also {
        it.text = label
        it.setOnClickListener { onClick() }
        addView(it, LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
            setMargins(context.px(8), context.px(4), context.px(8), context.px(4))
        })
    }

    /** A filled button in the accent color, the screen's main action. */
    fun LinearLayout.primaryButton(label: CharSequence, onClick: () -> Unit): Button =
        Button(context, null, 0, android.R.style.Widget_Material_Button_Colored).also {
            it.text = label
            it.setOnClickListener { onClick() }
            addView(it, MATCH_WRAP.apply { setMargins(context.px(12), context.px(8), context.px(12), context.px(8)) })
        }

    /** A flat button in the accent color, for a card's secondary action. */
    fun LinearLayout.textButton(label: CharSequence, onClick: () -> Unit): Button =
        Button(context, null, 0, android.R.style.Widget_Material_Button_Borderless_Colored).also {
            it.text = label
            it.setOnClickListener { onClick() }
            addView(it, LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply {
                marginStart = context.px(8)
            })
        }

    /** A row with an optional icon, a label, a secondary line and a switch; the whole row toggles it. */
    fun LinearLayout.switchRow(
        label: CharSequence,
        detail: CharSequence?,
        checked: Boolean,
        icon: Drawable? = null,
        onChange: (Boolean) -> Unit,
    ): Switch {
        val toggle = Switch(context).apply { isChecked = checked }
        val row = LinearLayout(context).apply {
            orientation = LinearLayout.HORIZONTAL
            gravity = Gravity.CENTER_VERTICAL
            setPadding(context.px(16), context.px(10), context.px(16), context.px(10))
            ripple()
            setOnClickListener { toggle.toggle() }
        }
        icon?.let {
            row.addView(ImageView(context).apply { setImageDrawable(it) },
                LinearLayout.LayoutParams(context.px(40), context.px(40)).apply { marginEnd = context.px(16) })
        }
        val column = LinearLayout(context).apply { orientation = LinearLayout.VERTICAL }
        column.addView(TextView(context).apply { setTextAppearance(R.style.TextAppearance_Phonehome_Title); text = label })
        if (!detail.isNullOrEmpty()) {
            column.addView(TextView(context).apply { setTextAppearance(R.style.TextAppearance_Phonehome_Secondary); text = detail })
        }
        row.addView(column, LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f))
        row.addView(toggle)
        toggle.setOnCheckedChangeListener { _, value -> onChange(value) }
        addView(row, MATCH_WRAP)
        return toggle
    }

    /** A labelled text field; [onChange] hears every edit (nothing waits for the field to lose focus). */
    fun LinearLayout.field(label: CharSequence, value: String, hint: String? = null, onChange: (String) -> Unit): EditText {
        val box = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            setPadding(context.px(16), context.px(6), context.px(16), context.px(2))
        }
        box.addView(TextView(context).apply { setTextAppearance(R.style.TextAppearance_Phonehome_Caption); text = label })
        val edit = EditText(context).apply {
            setText(value)
            this.hint = hint
            afterEdit(onChange)
        }
        box.addView(edit, MATCH_WRAP)
        addView(box, MATCH_WRAP)
        return edit
    }

    fun EditText.afterEdit(onChange: (String) -> Unit) = addTextChangedListener(object : TextWatcher {
        override fun beforeTextChanged(s: CharSequence?, start: Int, count: Int, after: Int) {}
        override fun onTextChanged(s: CharSequence?, start: Int, before: Int, count: Int) {}
        override fun afterTextChanged(s: Editable?) = onChange(s?.toString().orEmpty())
    })

    /** A search box with its symbol. */
    fun LinearLayout.search(hint: String, onChange: (String) -> Unit): EditText {
        val edit = EditText(context).apply {
            this.hint = hint
            setSingleLine(true)
            setCompoundDrawablesRelativeWithIntrinsicBounds(symbol(context, R.drawable.ic_search), null, null, null)
            compoundDrawablePadding = context.px(8)
            afterEdit(onChange)
        }
        addView(edit, MATCH_WRAP.apply { setMargins(context.px(4), 0, context.px(4), context.px(4)) })
        return edit
    }

    /** Filter chips that toggle, in one scrollable line. */
    fun LinearLayout.filters(options: List<Pair<String, Boolean>>, onChange: (index: Int, on: Boolean) -> Unit) {
        val line = LinearLayout(context).apply { orientation = LinearLayout.HORIZONTAL }
        options.forEachIndexed { index, (label, initially) ->
            val toggle = TextView(context).apply {
                setTextAppearance(R.style.TextAppearance_Phonehome_Body)
                text = label
                setPadding(context.px(12), context.px(6), context.px(12), context.px(6))
                isSelected = initially
            }
            fun paint() {
                toggle.background = GradientDrawable().apply {
                    cornerRadius = context.px(16).toFloat()
                    if (toggle.isSelected) setColor(context.color(R.color.accent) and 0x33FFFFFF) else setColor(0)
                    setStroke(context.px(1), context.color(if (toggle.isSelected) R.color.accent else R.color.card_stroke))
                }
            }
            paint()
            toggle.setOnClickListener {
                toggle.isSelected = !toggle.isSelected
                paint()
                onChange(index, toggle.isSelected)
            }
            line.addView(toggle, LinearLayout.LayoutParams(ViewGroup.LayoutParams.WRAP_CONTENT, ViewGroup.LayoutParams.WRAP_CONTENT).apply { marginEnd = context.px(8) })
        }
        addView(HorizontalScrollView(context).apply {
            isHorizontalScrollBarEnabled = false
            addView(line)
            setPadding(context.px(4), context.px(2), context.px(4), context.px(6))
        }, MATCH_WRAP)
    }

    /** Figures side by side: a big number over its label. */
    fun LinearLayout.figures(values: List<Pair<String, String>>) {
        val line = LinearLayout(context).apply {
            orientation = LinearLayout.HORIZONTAL
            setPadding(context.px(8), context.px(8), context.px(8), context.px(8))
        }
        values.forEach { (value, label) ->
            val cell = LinearLayout(context).apply {
                orientation = LinearLayout.VERTICAL
                gravity = Gravity.CENTER_HORIZONTAL
            }
            cell.addView(TextView(context).apply { setTextAppearance(R.style.TextAppearance_Phonehome_Display); text = value; gravity = Gravity.CENTER })
            cell.addView(TextView(context).apply { setTextAppearance(R.style.TextAppearance_Phonehome_Caption); text = label; gravity = Gravity.CENTER })
            line.addView(cell, LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f))
        }
        addView(line, MATCH_WRAP)
    }

    /** `name  value` lines of a record, names in the secondary color, values selectable. */
    fun LinearLayout.fields(values: List<Pair<String, String>>) {
        values.forEach { (name, value) ->
            val line = LinearLayout(context).apply {
                orientation = LinearLayout.HORIZONTAL
                setPadding(context.px(16), context.px(3), context.px(16), context.px(3))
            }
            line.addView(TextView(context).apply { setTextAppearance(R.style.TextAppearance_Phonehome_Caption); text = name },
                LinearLayout.LayoutParams(context.px(110), ViewGroup.LayoutParams.WRAP_CONTENT))
            line.addView(TextView(context).apply {
                setTextAppearance(R.style.TextAppearance_Phonehome_Body)
                text = value
                setTextIsSelectable(true)
            }, LinearLayout.LayoutParams(0, ViewGroup.LayoutParams.WRAP_CONTENT, 1f))
            addView(line, MATCH_WRAP)
        }
    }

    /** What an empty list means and what to do: a symbol and a sentence. */
    fun LinearLayout.empty(message: CharSequence, icon: Int = R.drawable.ic_eye): View {
        val box = LinearLayout(context).apply {
            orientation = LinearLayout.VERTICAL
            gravity = Gravity.CENTER_HORIZONTAL
            setPadding(context.px(24), context.px(20), context.px(24), context.px(20))
        }
        box.addView(ImageView(context).apply { setImageDrawable(symbol(context, icon)); alpha = 0.5f },
            LinearLayout.LayoutParams(context.px(40), context.px(40)))
        box.addView(TextView(context).apply {
            setTextAppearance(R.style.TextAppearance_Phonehome_Secondary)
            text = message
            gravity = Gravity.CENTER
            setPadding(0, context.px(8), 0, 0)
        })
        addView(box, MATCH_WRAP)
        return box
    }

    /** A custom view of fixed height inside the column. */
    fun LinearLayout.framed(view: View, heightDp: Int) {
        addView(FrameLayout(context).apply {
            setPadding(context.px(16), context.px(8), context.px(16), context.px(8))
            addView(view, FrameLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, context.px(heightDp)))
        }, MATCH_WRAP)
    }

    fun LinearLayout.divider() {
        addView(View(context).apply { setBackgroundColor(context.color(R.color.card_stroke)) },
            LinearLayout.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, context.px(1)).apply { setMargins(context.px(16), 0, 0, 0) })
    }
}
