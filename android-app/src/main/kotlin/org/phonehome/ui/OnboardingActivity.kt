package org.phonehome.ui

import android.app.Activity
import android.content.Intent
import android.os.Bundle
import android.widget.ImageView
import android.widget.LinearLayout
import org.phonehome.R
import org.phonehome.settings.Settings
import org.phonehome.ui.Widgets.card
import org.phonehome.ui.Widgets.heading
import org.phonehome.ui.Widgets.listRow
import org.phonehome.ui.Widgets.primaryButton
import org.phonehome.ui.Widgets.text

/** First run: what the VPN does and that nothing leaves the phone, before Android's own consent dialog. */
class OnboardingActivity : Activity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        actionBar?.hide()
        Ui.page(this) {
            val size = Ui.dp(this@OnboardingActivity, 72)
            addView(ImageView(context).apply { setImageResource(R.drawable.ic_launcher) },
                LinearLayout.LayoutParams(size, size).apply { setMargins(Ui.dp(this@OnboardingActivity, 8), size / 3, 0, 0) })
            heading(getString(R.string.onboarding_title))
            text(getString(R.string.onboarding_intro), R.style.TextAppearance_Phonehome_Secondary)
            card {
                listRow(getString(R.string.onboarding_vpn), getString(R.string.onboarding_vpn_help), Widgets.symbol(context, R.drawable.ic_shield), lines = 6)
                listRow(getString(R.string.onboarding_private), getString(R.string.onboarding_private_help), Widgets.symbol(context, R.drawable.ic_lock), lines = 6)
                listRow(getString(R.string.onboarding_alerts), getString(R.string.onboarding_alerts_help), Widgets.symbol(context, R.drawable.ic_bell), lines = 6)
                listRow(getString(R.string.onboarding_block), getString(R.string.onboarding_block_help), Widgets.symbol(context, R.drawable.ic_block), lines = 6)
            }
            text(getString(R.string.onboarding_next), R.style.TextAppearance_Phonehome_Caption)
            primaryButton(getString(R.string.onboarding_continue)) {
                Settings(this@OnboardingActivity).setOnboarded()
                startActivity(Intent(this@OnboardingActivity, MainActivity::class.java))
                finish()
            }
        }
    }
}
