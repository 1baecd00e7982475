"""Personal data handled as the law requires (issue 20): retention and anonymisation."""
