# Writes every file of DIR into OUT as an entry {name, content} of kAssets.
file(GLOB names RELATIVE ${DIR} ${DIR}/*.css ${DIR}/*.js ${DIR}/*.html)
list(SORT names)
set(body "")
foreach(name ${names})
  file(READ ${DIR}/${name} content)
  string(APPEND body
    "    {\"${name}\", R\"prongsai_asset(${content})prongsai_asset\"},\n")
endforeach()
file(WRITE ${OUT} "constexpr EmbeddedAsset kAssets[] = {\n${body}};\n")
