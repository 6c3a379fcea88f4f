//! Pushed messages and events, above all MASSSENDJOBFINISH. (Being written for issue 4.)
