"""Reading a file into clean pages: extraction, cleaning, headings, titles, reader processes."""
