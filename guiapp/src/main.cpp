//
// main.cpp — parley-gui's entry point; everything else is in parley-gui-lib.
//
#include "App.h"

wxIMPLEMENT_APP(parley::gui::App);
