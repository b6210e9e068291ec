"""The text grammar shared by the build and the query: headings, words and stems, sentences."""
