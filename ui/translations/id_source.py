# ruff: noqa: E501
"""Indonesian translations of the UI catalogue: msgid (English) -> Bahasa Indonesia.

Maintainers edit ``id/LC_MESSAGES/messages.po`` directly; this table seeded it
(``python ui/translations/id_source.py`` rewrites the msgstr of every entry listed here).
"""

from __future__ import annotations

ID: dict[str, str] = {
    "%(n)s of 16 digits": "%(n)s dari 16 angka",
    "16 digits, on your KTP or family card": "16 angka, ada di KTP atau Kartu Keluarga",
    "A NIK has 16 digits; you typed %(count)s. There is an extra digit.": "NIK harus 16 angka, yang diketik %(count)s angka. Ada angka yang berlebih.",
    "A NIK has 16 digits; you typed only %(count)s. A digit is missing.": "NIK harus 16 angka, yang diketik baru %(count)s angka. Ada angka yang terlewat.",
    "A NIK has only the numbers 0-9. '%(char)s' is not a number.": "NIK hanya berisi angka 0-9. Tanda '%(char)s' bukan angka.",
    "An agent has been called and will come to help you. Please wait here.": "Petugas sudah dipanggil dan akan datang membantu Anda. Silakan tunggu di sini.",
    "An agent is coming": "Petugas akan datang",
    "Attempt %(n)s of %(total)s": "Percobaan %(n)s dari %(total)s",
    "Back": "Kembali",
    "Back to the start": "Kembali ke awal",
    "Bahasa Indonesia": "Bahasa Indonesia",
    "Call an agent": "Panggil petugas",
    "Camera picture": "Gambar kamera",
    "Change": "Ubah",
    "Check my status": "Cek status saya",
    "Check your answers": "Periksa jawaban Anda",
    "Check your answers. If they are right, touch Send. To change them, touch Change.": "Periksa jawaban Anda. Jika sudah benar, sentuh Kirim. Untuk mengubah, sentuh Ubah.",
    "Choose your language": "Pilih bahasa",
    "Choose your language. Touch Bahasa Indonesia or English.": "Pilih bahasa. Sentuh Bahasa Indonesia atau English.",
    "Clear": "Hapus semua",
    "Clear all": "Hapus semua angka",
    "Confirmed by an agent": "Dipastikan oleh petugas",
    "Consent text version %(v)s": "Versi naskah persetujuan %(v)s",
    "Delete the last digit": "Hapus angka terakhir",
    "Digits 3-4 (%(code)s) are not a regency or city code in %(province)s. Please check.": "Angka 3-4 NIK (%(code)s) bukan kode kabupaten/kota di %(province)s. Periksa lagi.",
    "Digits 5-6 (%(code)s) are not a district code in %(regency)s. Please check.": "Angka 5-6 NIK (%(code)s) bukan kode kecamatan di %(regency)s. Periksa lagi.",
    "Digits 7-8 (%(day)s) are not a day of birth: 01-31 for men, 41-71 for women.": "Angka 7-8 NIK (%(day)s) bukan tanggal lahir: untuk laki-laki 01-31, untuk perempuan 41-71.",
    "Digits 9-10 (%(month)s) are not a month of birth. The month must be 01 to 12.": "Angka 9-10 NIK (%(month)s) bukan bulan lahir. Bulan harus 01 sampai 12.",
    "Do not worry. An agent can help you now. You may also try the photo once more.": "Jangan khawatir. Petugas bisa membantu Anda sekarang. Anda juga boleh mencoba foto sekali lagi.",
    "Do you need more time?": "Perlu waktu lagi?",
    "Do you need more time? Touch the button to continue.": "Perlu waktu lagi? Sentuh tombol untuk melanjutkan.",
    "Eligible for assistance": "Layak menerima bantuan",
    "English": "English",
    "Face matched": "Wajah cocok",
    "Face recorded; the office will check it": "Wajah direkam; kantor akan memeriksanya",
    "Finish": "Selesai",
    "Go back": "Kembali",
    "Good, hold still.": "Bagus, tahan sebentar.",
    "Hold still for a moment.": "Tahan diam sebentar.",
    "If you do not touch the screen, this session will end and your data will be erased.": "Jika layar tidak disentuh, sesi ini akan berakhir dan data Anda akan dihapus.",
    "If you think this is wrong, you may object (sanggah): ask the village office or the agent here, and bring your KTP and your registration number.": "Jika menurut Anda ini keliru, Anda boleh mengajukan sanggahan: tanyakan ke kantor desa atau petugas di sini, dan bawa KTP serta nomor pendaftaran Anda.",
    "It is too bright. Please avoid direct light.": "Terlalu silau, hindari cahaya langsung.",
    "It is too dark. Please find more light.": "Terlalu gelap, cari tempat lebih terang.",
    "Keep this paper. Use the number to check your status.": "Simpan kertas ini. Pakai nomornya untuk cek status.",
    "Keep your head level.": "Tegakkan kepala.",
    "Listen again": "Dengar lagi",
    "Look at the camera": "Lihat ke kamera",
    "Look at the camera. Put your face inside the oval, then touch Take photo.": "Lihat ke kamera. Letakkan wajah di dalam lingkaran, lalu sentuh Ambil foto.",
    "Look straight at the camera.": "Lihat lurus ke kamera.",
    "NIK": "NIK",
    "Next": "Lanjut",
    "No NIK entered yet. Type the 16 digits of the NIK from your KTP or family card.": "NIK belum diisi. Ketik 16 angka NIK dari KTP atau Kartu Keluarga.",
    "No record can be shown": "Tidak ada data yang dapat ditampilkan",
    "No record can be shown. Your face could not be confirmed. An agent can look it up for you.": "Tidak ada data yang dapat ditampilkan. Wajah Anda belum dapat dipastikan. Petugas bisa memeriksanya untuk Anda.",
    "No registration found": "Belum ada pendaftaran",
    "Nobody touched the screen for a while, so the session ended and your data was erased.": "Layar tidak disentuh beberapa saat, jadi sesi berakhir dan data Anda sudah dihapus.",
    "Not eligible for assistance": "Tidak layak menerima bantuan",
    "Not yet confirmed": "Belum dipastikan",
    "Nothing to do. Please check again in a few weeks.": "Tidak perlu melakukan apa-apa. Silakan cek lagi beberapa minggu lagi.",
    "Nothing to do. The decision will come later.": "Tidak perlu melakukan apa-apa. Keputusan akan menyusul.",
    "Nothing to do. The kiosk will send it when the internet is available.": "Tidak perlu melakukan apa-apa. Kios akan mengirimnya saat internet tersedia.",
    "Nothing was saved": "Tidak ada yang disimpan",
    "Number keys": "Tombol angka",
    "One less": "Kurangi satu",
    "One more": "Tambah satu",
    "Only one person in front of the camera, please.": "Hanya satu orang di depan kamera.",
    "Please blink your eyes.": "Silakan kedipkan mata.",
    "Please check that you typed your own NIK, then try the photo again.": "Periksa apakah NIK yang diketik adalah NIK Anda sendiri, lalu coba foto lagi.",
    "Please come closer to the camera.": "Silakan mendekat ke kamera.",
    "Please look at the camera.": "Silakan lihat ke kamera.",
    "Please move back a little.": "Silakan mundur sedikit.",
    "Please open your eyes.": "Mohon buka mata.",
    "Please stand in front of the camera yourself, not a picture or a screen, and try again.": "Silakan berdiri sendiri di depan kamera, bukan foto atau layar, lalu coba lagi.",
    "Please take off your mask.": "Mohon lepas masker.",
    "Please take off your sunglasses.": "Mohon lepas kacamata hitam.",
    "Please wait, checking your face...": "Mohon tunggu, wajah sedang diperiksa...",
    "Please wait, saving...": "Mohon tunggu, sedang menyimpan...",
    "Please write this number down or take a photo of it.": "Silakan catat nomor ini atau foto layar ini.",
    "Put your face in the middle of the oval.": "Posisikan wajah di tengah lingkaran.",
    "Put your face inside the oval.": "Letakkan wajah di dalam lingkaran.",
    "QR code of your registration number": "Kode QR nomor pendaftaran Anda",
    "Question %(n)s of %(total)s": "Pertanyaan %(n)s dari %(total)s",
    "Reason": "Alasan",
    "Received by the office, being checked": "Sudah diterima kantor, sedang diperiksa",
    "Register": "Daftar",
    "Register for social assistance": "Daftar bantuan sosial",
    "Registration number": "Nomor pendaftaran",
    "Send": "Kirim",
    "Social assistance kiosk": "Kios Bantuan Sosial",
    "Social assistance registration": "Pendaftaran bantuan sosial",
    "Start again": "Mulai lagi",
    "Start over": "Ulangi dari awal",
    "Take photo": "Ambil foto",
    "Take your printed receipt.": "Ambil tanda terima yang tercetak.",
    "Thank you. Next, a few questions about your household.": "Terima kasih. Berikutnya, beberapa pertanyaan tentang keluarga Anda.",
    "The birth date in the NIK (%(day)s-%(month)s-%(year)s) does not exist.": "Tanggal lahir di NIK (%(day)s-%(month)s-%(year)s) tidak ada di kalender.",
    "The birth year in the NIK (%(year)s) is not possible. Please check.": "Tahun lahir di NIK (%(year)s) tidak mungkin. Periksa lagi.",
    "The face did not match the NIK": "Wajah tidak cocok dengan NIK",
    "The first two digits (%(code)s) are not a province code. Check the start of the NIK.": "Dua angka pertama NIK (%(code)s) bukan kode provinsi. Periksa lagi angka awal NIK.",
    "The last four digits of a NIK are never 0000. Check the end of the NIK.": "Empat angka terakhir NIK tidak mungkin 0000. Periksa lagi angka akhir NIK.",
    "The light is behind you. Please move a little.": "Cahaya dari belakang, geser posisi sedikit.",
    "The office will check it later. Next, a few questions about your household.": "Kantor akan memeriksanya nanti. Berikutnya, beberapa pertanyaan tentang keluarga Anda.",
    "The photo could not be used": "Foto tidak dapat dipakai",
    "The session has ended": "Sesi sudah berakhir",
    "The session has ended and your data was erased. Touch Start again to begin.": "Sesi sudah berakhir dan data Anda sudah dihapus. Sentuh Mulai lagi untuk memulai.",
    "The village office will tell you when and where to collect the assistance.": "Kantor desa akan memberi tahu kapan dan di mana bantuan diambil.",
    "There is no registration for this NIK at this kiosk.": "Belum ada pendaftaran untuk NIK ini di kios ini.",
    "Touch the screen to start": "Sentuh layar untuk mulai",
    "Try the photo again": "Coba foto lagi",
    "Turn your head to the left.": "Tolehkan kepala ke kiri.",
    "Turn your head to the right.": "Tolehkan kepala ke kanan.",
    "Type the 16 digits of your NIK. You find it on your KTP. Then touch Next.": "Ketik 16 angka NIK Anda. NIK ada di KTP. Lalu sentuh Lanjut.",
    "Type your NIK": "Ketik NIK Anda",
    "Use this number to check your status. The office will decide in a few weeks.": "Pakai nomor ini untuk cek status. Kantor akan memutuskan dalam beberapa minggu.",
    "Waiting to be sent to the office": "Menunggu dikirim ke kantor",
    "We could not confirm your face": "Wajah Anda belum dapat dipastikan",
    "Welcome": "Selamat datang",
    "What would you like to do?": "Apa yang ingin Anda lakukan?",
    "What would you like to do? Touch Register, or Check my status.": "Apa yang ingin Anda lakukan? Sentuh Daftar, atau Cek status saya.",
    "Yes, I need more time": "Ya, saya perlu waktu lagi",
    "You are registered": "Anda sudah terdaftar",
    "You are registered. Your registration number is %(n)s.": "Anda sudah terdaftar. Nomor pendaftaran Anda %(n)s.",
    "You did not agree, so nothing was saved. You can start again at any time.": "Anda tidak setuju, jadi tidak ada yang disimpan. Anda boleh mulai lagi kapan saja.",
    "Your data has been checked": "Data Anda sudah diperiksa",
    "Your face could not be confirmed, so nothing can be shown. An agent can look it up for you.": "Wajah Anda belum dapat dipastikan, jadi tidak ada yang dapat ditampilkan. Petugas bisa memeriksanya untuk Anda.",
    "Your face has been recorded": "Wajah Anda sudah direkam",
    "Your face matches your NIK": "Wajah Anda cocok dengan NIK",
    "Your registration number": "Nomor pendaftaran Anda",
    "Your registration status": "Status pendaftaran Anda",
    "seconds left": "detik lagi",
    "Change the answer: %(q)s": "Ubah jawaban: %(q)s",
    "Or show the QR code of the IKD app to the camera.": "Atau tunjukkan kode QR dari aplikasi IKD ke kamera.",
}


def main() -> None:
    """Write these translations into id/LC_MESSAGES/messages.po."""
    from pathlib import Path

    from babel.messages.pofile import read_po, write_po

    path = Path(__file__).parent / "id" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        catalog = read_po(fh, locale="id")
    for message in catalog:
        if message.id and message.id in ID:
            message.string = ID[message.id]
            message.flags.discard("fuzzy")
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False)


if __name__ == "__main__":
    main()
