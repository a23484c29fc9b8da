"""What the screens show (overview, forms, wizard), as plain data: no Textual."""
