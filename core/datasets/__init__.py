"""Labelled image sets to evaluate: an ImageFolder folder or zip, a zip with a labels.csv manifest, the digits.

A zip is never extracted. Its members are listed from the central directory and read into memory one at
a time, so a hostile archive cannot write anywhere. Every member that cannot be used (an unsafe path, a
zip bomb, not an image, a class the model does not know, ...) is listed with the reason and skipped; the
rest is evaluated.

Class folders (or the manifest's label column) may hold a label name ("espresso", "great_white_shark"),
an ImageNet WordNet id ("n07920052"), or a class index ("967").

The package: `sets` (what a set is, its limits), `readers` (members by name), `classes` (names to
indices), `plan` (what to evaluate and what to skip), `listing` and `zipnames` (members of folders and zips, the
names of zips not marked UTF-8), `sources` (open a zip, a folder or the digits), `unlabelled` (every image of a
folder or zip, for an out-of-distribution check), `uri` (a folder behind a pyarrow filesystem URI).
"""
