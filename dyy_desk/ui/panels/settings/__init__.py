"""The pages of the 设置 area; `dyy_desk.ui.panels.settings_panel` composes them."""
